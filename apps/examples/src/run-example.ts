/**
 * `pnpm example`: lists and runs the curriculum's examples.
 *
 *   pnpm example --list
 *   pnpm example langevin-101 --smoke
 *   pnpm example all --smoke --out out/examples
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { EXAMPLE_NAMES, EXAMPLES, findExample } from './examples/index.js';
import { BACKENDS, type BackendName, selectBackend } from './lib/backend.js';

function closest(name: string): string | undefined {
  const d = (a: string, b: string) => {
    const m = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) m[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        m[i]![j] = Math.min(
          m[i - 1]![j]! + 1,
          m[i]![j - 1]! + 1,
          m[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
      }
    }
    return m[a.length]![b.length]!;
  };
  const best = EXAMPLE_NAMES.map((n) => [n, d(name, n)] as const).sort((a, b) => a[1] - b[1])[0];
  return best !== undefined && best[1] <= Math.max(3, name.length / 3) ? best[0] : undefined;
}

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1.`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0.`);
    return n;
  };
}

/** Per-example lengths and settings (today read by energy-matching-2d; the other examples ignore them). */
interface TuningOptions {
  setup?: 'library' | 'paper';
  flowSteps?: number;
  jointSteps?: number;
  flowLr?: number;
  jointLr?: number;
  jointLrEnd?: number;
  jointBatchSize?: number;
  nLangevin?: number;
  batchSize?: number;
  langevinDt?: number;
  coupling?: string;
  dataset?: string[];
  checkpointEvery?: number;
  jointCheckpointEvery?: number;
  logEvery?: number;
  width?: number;
  init?: 'he' | 'torch';
  resumeDir?: string;
}

const program = new Command('pnpm example')
  .description(
    'Run an example of the @ebm curriculum (TorchEBM’s, plus MALA vs ULA, NUTS, replica exchange, diagnostics, backends).',
  )
  .argument('[names...]', `examples to run (or "all"); see --list`)
  .option('-l, --list', 'list the examples and exit', false)
  .option('--smoke', 'tiny sizes: a few seconds each', false)
  .option('-o, --out <dir>', 'output root: each example writes <dir>/<name>/', 'out')
  .option(
    '--seed <n>',
    'random seed',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('seed must be an integer >= 0.');
      return n;
    },
    0,
  )
  .option(
    '-b, --backend <name>',
    `tfjs backend (${BACKENDS.join(', ')})`,
    (v) => {
      if (!(BACKENDS as readonly string[]).includes(v))
        throw new InvalidArgumentError(`unknown backend; use one of ${BACKENDS.join(', ')}.`);
      return v;
    },
    'cpu',
  )
  .option(
    '--setup <name>',
    "energy-matching-2d: 'library' (default) or 'paper' (the paper's 2-D run: 8 gaussians → moons, 20k + 2k steps)",
    (v: string) => {
      if (v !== 'library' && v !== 'paper') throw new InvalidArgumentError('setup must be library or paper.');
      return v;
    },
  )
  .option('--flow-steps <n>', 'energy-matching-2d: flow-only steps', positiveInt('flow-steps'))
  .option('--joint-steps <n>', 'energy-matching-2d: joint steps', positiveInt('joint-steps'))
  .option('--flow-lr <x>', 'energy-matching-2d: flow-phase learning rate', positiveNumber('flow-lr'))
  .option(
    '--joint-lr <x>',
    'energy-matching-2d: joint-phase start learning rate (cosine to a tenth)',
    positiveNumber('joint-lr'),
  )
  .option(
    '--joint-lr-end <x>',
    'energy-matching-2d: joint-phase end learning rate (cosine from --joint-lr; default a tenth, the paper set-up: constant)',
    positiveNumber('joint-lr-end'),
  )
  .option(
    '--n-langevin <n>',
    'energy-matching-2d: Langevin steps per negative batch',
    positiveInt('n-langevin'),
  )
  .option(
    '--langevin-dt <x>',
    'energy-matching-2d: Langevin step of the negative chains',
    positiveNumber('langevin-dt'),
  )
  .option(
    '--coupling <name>',
    'energy-matching-2d: sinkhorn (default), exactOt, independent (every backend)',
    (v: string) => {
      if (v !== 'sinkhorn' && v !== 'exactOt' && v !== 'independent')
        throw new InvalidArgumentError('coupling must be sinkhorn, exactOt or independent.');
      return v;
    },
  )
  .option('--batch-size <n>', 'energy-matching-2d: batch size', positiveInt('batch-size'))
  .option(
    '--joint-batch-size <n>',
    'energy-matching-2d: batch size of the joint phase (default --batch-size)',
    positiveInt('joint-batch-size'),
  )
  .option(
    '--dataset <name...>',
    'energy-matching-2d: datasets (twoMoons, eightGaussians); default both',
    (v: string, prev: string[] | undefined) => {
      if (v !== 'twoMoons' && v !== 'eightGaussians')
        throw new InvalidArgumentError('dataset must be twoMoons or eightGaussians.');
      return [...(prev ?? []), v];
    },
  )
  .option(
    '--checkpoint-every <n>',
    'energy-matching-2d: steps between checkpoints (sample, score, figure, summary.json)',
    positiveInt('checkpoint-every'),
  )
  .option(
    '--joint-checkpoint-every <n>',
    'energy-matching-2d: joint steps between checkpoints (default --checkpoint-every)',
    positiveInt('joint-checkpoint-every'),
  )
  .option('--log-every <n>', 'energy-matching-2d: steps between progress lines', positiveInt('log-every'))
  .option(
    '--width <n>',
    'energy-matching-2d: hidden-layer width (default 128; the paper set-up: 256)',
    positiveInt('width'),
  )
  .option(
    '--init <name>',
    "energy-matching-2d: V's initialisation, he (MLPEnergy's) or torch (PyTorch's nn.Linear default; the paper set-up)",
    (v: string) => {
      if (v !== 'he' && v !== 'torch') throw new InvalidArgumentError('init must be he or torch.');
      return v;
    },
  )
  .option(
    '--resume-dir <dir>',
    'energy-matching-2d: folder for training checkpoints (each phase saves V, Adam and the loss every 500 steps); a rerun with the same folder continues where the last one stopped',
  )
  .showHelpAfterError('(run with --help for usage, --list for the examples)')
  .addHelpText('after', `\nExamples:\n  ${EXAMPLE_NAMES.join('\n  ')}`)
  .action(
    async (
      names: string[],
      o: { list: boolean; smoke: boolean; out: string; seed: number; backend: BackendName } & TuningOptions,
    ) => {
      if (o.list || names.length === 0) {
        let tier = '';
        for (const e of EXAMPLES) {
          if (e.tier !== tier) {
            tier = e.tier;
            console.log(`\n${tier}`);
          }
          console.log(`  ${e.name.padEnd(26)} ${e.summary}`);
        }
        if (!o.list) console.log('\nRun one with: pnpm example <name> [--smoke]');
        return;
      }
      const chosen = names.includes('all') ? [...EXAMPLE_NAMES] : names;
      for (const name of chosen) {
        if (findExample(name) === undefined) {
          const hint = closest(name);
          program.error(
            `error: unknown example "${name}".${hint !== undefined ? ` Did you mean "${hint}"?` : ''} Run with --list to see them all.`,
          );
        }
      }
      console.log(`backend: ${await selectBackend(o.backend)}`);
      const { list: _l, smoke: _s, out: _o, seed: _d, backend: _b, dataset, ...tuning } = o;
      const extra = { ...tuning, ...(dataset !== undefined ? { datasets: dataset } : {}) };
      for (const name of chosen) {
        const entry = findExample(name)!;
        const outDir = join(o.out, name);
        console.log(`\n▶ ${entry.title} (${name})${o.smoke ? ' [smoke]' : ''}`);
        const t0 = performance.now();
        const { run } = await entry.load();
        const runOptions = { smoke: o.smoke, outDir, seed: o.seed, ...extra };
        const result = await run(runOptions);
        const { files, ...numbers } = result;
        console.log(JSON.stringify(numbers, null, 2));
        console.log(
          `✓ ${name}: ${files.length} files in ${outDir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }
    },
  );

program.parseAsync().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
