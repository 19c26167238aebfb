/**
 * `pnpm demo`: trains an energy-based model on a 2-D dataset, samples from it and writes plots and a summary.
 * `pnpm demo --help` lists the flags.
 */
import { resolve } from 'node:path';
import { isEbmError } from '@ebm/core';
import { DATASET_NAMES, type DatasetName } from '@ebm/datasets';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, type BackendName } from '../lib/backend.js';
import { createProgress } from './progress.js';
import { LOSSES, type LossName, runDemo, SAMPLERS, type SamplerName } from './run.js';

const ALIASES: Record<string, DatasetName> = {
  moons: 'twoMoons',
  '8gaussians': 'eightGaussians',
  spirals: 'twoSpirals',
  rings: 'concentricRings',
};

function int(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}.`);
    return n;
  };
}
function positive(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a positive number.`);
    return n;
  };
}

const program = new Command('pnpm demo')
  .description(
    'Train an MLP energy on a 2-D dataset (PCD + Langevin by default), sample it, plot it, score it.',
  )
  .addOption(
    new Option('-d, --dataset <name>', `dataset (${[...DATASET_NAMES, ...Object.keys(ALIASES)].join(', ')})`)
      .default('twoMoons')
      .argParser((v) => {
        const name = ALIASES[v] ?? v;
        if (!(DATASET_NAMES as readonly string[]).includes(name)) {
          throw new InvalidArgumentError(
            `unknown dataset; use one of ${DATASET_NAMES.join(', ')} (or ${Object.keys(ALIASES).join(', ')}).`,
          );
        }
        return name;
      }),
  )
  .addOption(new Option('-l, --loss <name>', 'training loss').choices(LOSSES).default('pcd'))
  .addOption(
    new Option('-s, --sampler <name>', 'sampler for negatives and final samples')
      .choices(SAMPLERS)
      .default('langevin'),
  )
  .option('-n, --steps <n>', 'training steps (default: the recipe’s)', int('steps', 1))
  .option('--batch-size <n>', 'data batch size (default: the recipe’s)', int('batch-size', 2))
  .option('--lr <x>', 'Adam learning rate (default: the recipe’s)', positive('lr'))
  .option('-k, --k <n>', 'sampler steps per contrastive update (default: the recipe’s)', int('k', 1))
  .option('--energy-l2 <x>', 'energy L2 regularisation (default: the recipe’s)', (v) => {
    const n = Number(v);
    if (!(n >= 0)) throw new InvalidArgumentError('energy-l2 must be >= 0.');
    return n;
  })
  .option('--step-size <x>', 'sampler step size (default: the recipe’s)', positive('step-size'))
  .option('--noise-scale <x>', 'Langevin noise scale (σ² = temperature)', positive('noise-scale'))
  .option(
    '--anneal <x>',
    'final noise scale of the annealed final run (default: the recipe’s; = noise scale: none)',
    positive('anneal'),
  )
  .option('--chains <n>', 'chains in the final sampling run = points of the score', int('chains', 2))
  .option(
    '--sample-steps <n>',
    'steps of the final sampling run (default: the recipe’s)',
    int('sample-steps', 1),
  )
  .option('--seed <n>', 'random seed', int('seed', 0), 0)
  .addOption(
    new Option('-b, --backend <name>', 'tfjs backend (auto: measured by chooseBackend, the reason printed)')
      .choices([...BACKENDS, 'auto'])
      .default('auto'),
  )
  .option('-o, --out <dir>', 'output folder', 'out')
  .option('--smoke', 'tiny run (seconds), for tests', false)
  .option('-q, --quiet', 'no progress bar', false)
  .showHelpAfterError('(run with --help for the flags)');

program.parse();
const o = program.opts<{
  dataset: DatasetName;
  loss: LossName;
  sampler: SamplerName;
  steps?: number;
  batchSize?: number;
  lr?: number;
  k?: number;
  energyL2?: number;
  stepSize?: number;
  noiseScale?: number;
  anneal?: number;
  chains?: number;
  sampleSteps?: number;
  seed: number;
  backend: BackendName | 'auto';
  out: string;
  smoke: boolean;
  quiet: boolean;
}>();

// A bar on a terminal; periodic plain lines when piped (CI logs).
const bar = createProgress();
let started = false;
try {
  const summary = await runDemo({
    dataset: o.dataset,
    loss: o.loss,
    sampler: o.sampler,
    // unset flags leave the dataset's recipe (or the smoke sizes) in place
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.lr !== undefined ? { learningRate: o.lr } : {}),
    ...(o.k !== undefined ? { k: o.k } : {}),
    ...(o.stepSize !== undefined ? { stepSize: o.stepSize } : {}),
    ...(o.noiseScale !== undefined ? { noiseScale: o.noiseScale } : {}),
    ...(o.anneal !== undefined ? { sampleNoiseFinal: o.anneal } : {}),
    ...(o.energyL2 !== undefined ? { energyL2: o.energyL2 } : {}),
    ...(o.chains !== undefined ? { nChains: o.chains } : {}),
    ...(o.sampleSteps !== undefined ? { sampleSteps: o.sampleSteps } : {}),
    seed: o.seed,
    backend: o.backend,
    // relative to where the user typed `pnpm demo` (pnpm runs the script inside apps/examples)
    outDir: resolve(process.env.INIT_CWD ?? process.cwd(), o.out),
    smoke: o.smoke,
    onPhase: (phase, detail) => {
      if (phase !== 'train' && started) {
        bar.stop();
        started = false;
      }
      console.log(`[demo] ${phase}: ${detail}`);
    },
    onStep: (m, total) => {
      if (o.quiet) return;
      const fmt = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(3));
      const payload = { loss: fmt(m.loss), ep: fmt(m.energyPos), en: fmt(m.energyNeg) };
      if (!started) {
        bar.start(total, 0, payload);
        started = true;
      }
      bar.update(m.step + 1, payload);
    },
  });
  if (started) bar.stop();
  const s = summary;
  const sc = s.score;
  const extra = sc.modes
    ? `, ${sc.modes.held}/8 modes, ${(100 * sc.modes.withinShare).toFixed(1)} % within 3σ`
    : sc.squares
      ? `, ${(100 * sc.squares.samples).toFixed(1)} % in squares (data ${(100 * sc.squares.data).toFixed(0)} %, noise ${(100 * sc.squares.baseline).toFixed(0)} %)`
      : '';
  console.log(
    `[demo] done in ${(s.wallTimeMs / 1000).toFixed(1)} s wall, ${(s.cpuTimeMs.total / 1000).toFixed(1)} s CPU on ${s.backend}: ` +
      `final loss ${s.finalLossMean.toFixed(4)}; MMD²_multi ${s.mmd.samples.toFixed(4)} (noise ${s.mmd.initialNoise.toFixed(4)}, ` +
      `floor ${s.mmd.floor.toFixed(4)})${extra}; target ${sc.target.description}: ${sc.target.met ? 'met' : 'NOT met'}\n` +
      `[demo] wrote ${s.files.join(', ')}`,
  );
} catch (e) {
  if (started) bar.stop();
  if (isEbmError(e)) {
    console.error(`demo: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
