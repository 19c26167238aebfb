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
  .option('-n, --steps <n>', 'training steps', int('steps', 1), 600)
  .option('--batch-size <n>', 'data batch size', int('batch-size', 2), 128)
  .option('--lr <x>', 'Adam learning rate', positive('lr'), 2e-3)
  .option('-k, --k <n>', 'sampler steps per contrastive update', int('k', 1), 10)
  .option(
    '--energy-l2 <x>',
    'energy L2 regularisation of CD/PCD',
    (v) => {
      const n = Number(v);
      if (!(n >= 0)) throw new InvalidArgumentError('energy-l2 must be >= 0.');
      return n;
    },
    0.1,
  )
  .option('--step-size <x>', 'sampler step size', positive('step-size'), 0.01)
  .option('--noise-scale <x>', 'Langevin noise scale (σ² = temperature)', positive('noise-scale'), 1)
  .option('--chains <n>', 'chains in the final sampling run', int('chains', 2), 1000)
  .option('--sample-steps <n>', 'steps of the final sampling run', int('sample-steps', 1), 300)
  .option('--seed <n>', 'random seed', int('seed', 0), 0)
  .addOption(new Option('-b, --backend <name>', 'tfjs backend').choices(BACKENDS).default('cpu'))
  .option('-o, --out <dir>', 'output folder', 'out')
  .option('--smoke', 'tiny run (seconds), for tests', false)
  .option('-q, --quiet', 'no progress bar', false)
  .showHelpAfterError('(run with --help for the flags)');

program.parse();
const o = program.opts<{
  dataset: DatasetName;
  loss: LossName;
  sampler: SamplerName;
  steps: number;
  batchSize: number;
  lr: number;
  k: number;
  energyL2: number;
  stepSize: number;
  noiseScale: number;
  chains: number;
  sampleSteps: number;
  seed: number;
  backend: BackendName;
  out: string;
  smoke: boolean;
  quiet: boolean;
}>();
const explicit = (name: string) => program.getOptionValueSource(name) === 'cli';

// A bar on a terminal; periodic plain lines when piped (CI logs).
const bar = createProgress();
let started = false;
try {
  const summary = await runDemo({
    dataset: o.dataset,
    loss: o.loss,
    sampler: o.sampler,
    ...(explicit('steps') || !o.smoke ? { steps: o.steps } : {}),
    batchSize: o.batchSize,
    learningRate: o.lr,
    ...(explicit('k') || !o.smoke ? { k: o.k } : {}),
    stepSize: o.stepSize,
    noiseScale: o.noiseScale,
    energyL2: o.energyL2,
    ...(explicit('chains') || !o.smoke ? { nChains: o.chains } : {}),
    ...(explicit('sampleSteps') || !o.smoke ? { sampleSteps: o.sampleSteps } : {}),
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
  console.log(
    `[demo] done in ${(s.wallTimeMs / 1000).toFixed(1)} s on ${s.backend}: final loss ${s.finalLossMean.toFixed(4)}, ` +
      `MMD² samples ${s.mmd.samples.toFixed(4)} vs noise ${s.mmd.initialNoise.toFixed(4)}; wrote ${s.files.join(', ')}`,
  );
} catch (e) {
  if (started) bar.stop();
  if (isEbmError(e)) {
    console.error(`demo: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
