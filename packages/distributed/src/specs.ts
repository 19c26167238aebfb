import {
  assertInt,
  assertJson,
  assertName,
  assertObject,
  assertOneOf,
  invalidJob,
  type JsonObject,
} from './validate.js';

/**
 * # Job specifications (plain, serialisable data)
 *
 * A job never carries code: it names an energy, a sampler or a trainer by `kind`, with JSON `params`, and the
 * worker rebuilds the objects from its **registry** of factories (see `registry.ts`). Two job types:
 * - {@link ChainBatchJob}: chains `[chainStart, chainEnd)` of one sampling run (seed, steps, burn-in, thin);
 * - {@link TrainJob}: one training run, a trainer name and its JSON config (e.g. a {@link FitSpec}).
 * `parseJob` validates a payload read from Redis (untrusted input) into these types.
 * @module
 */

/** An energy, sampler, loss or dataset by registry name plus JSON parameters. */
export interface ComponentSpec {
  readonly kind: string;
  readonly params?: JsonObject;
}

/** What a chain-batch job returns: every kept draw, or per-chain summaries (means, variances, autocovariances). */
export type ChainOutput = 'samples' | 'summary';

/** A batch of chains of one sampling run. */
export interface ChainBatchJob {
  readonly type: 'chains';
  /** The run this job belongs to (results are stored under it). */
  readonly runId: string;
  /** Index of the job within the run (0-based). */
  readonly index: number;
  readonly energy: ComponentSpec;
  readonly sampler: ComponentSpec;
  /** First chain of the batch (global index in the run). */
  readonly chainStart: number;
  /** One past the last chain. */
  readonly chainEnd: number;
  /** Dimension of a state. */
  readonly dim: number;
  /** Seed of the whole run (chain r's numbers do not depend on the split). */
  readonly seed: number;
  readonly nSteps: number;
  readonly burnIn: number;
  readonly thin: number;
  readonly output: ChainOutput;
  /** Largest autocovariance lag kept per chain in `summary` output (default: all lags). */
  readonly maxLag?: number;
  /** Steps between checkpoints (rounded to a multiple of `thin`). */
  readonly checkpointEvery: number;
}

/** One training run. */
export interface TrainJob {
  readonly type: 'train';
  readonly runId: string;
  readonly index: number;
  /** Registry name of the trainer (e.g. `'fit'`). */
  readonly trainer: string;
  /** The trainer's JSON configuration (for `fitTrainer`: a {@link FitSpec}). */
  readonly config: JsonObject;
  readonly seed: number;
  /** A label for tables (e.g. `"twoMoons/pcd/seed 1"`). */
  readonly label?: string;
}

/** Any job. */
export type JobSpec = ChainBatchJob | TrainJob;

/**
 * The serialisable configuration of one `fit` run, for `fitTrainer`: every object is a registry name plus JSON
 * parameters, so a worker can rebuild the run from data alone.
 */
export interface FitSpec {
  readonly dataset: ComponentSpec;
  readonly energy: ComponentSpec;
  /** The negative-phase sampler, for losses that need one. */
  readonly sampler?: ComponentSpec;
  readonly loss: ComponentSpec;
  /** A tfjs optimizer by name (`adam`, `sgd`, `momentum`, `rmsprop`, `adagrad`, `adamax`) and learning rate. */
  readonly optimizer: { readonly kind: OptimizerKind; readonly learningRate: number };
  readonly steps: number;
  readonly batchSize?: number;
  /** Steps between checkpoints (default 25). */
  readonly checkpointEvery?: number;
  /** Evaluation settings passed to the registry's `evaluate` (JSON). */
  readonly evaluate?: JsonObject;
}

/** tfjs optimizers a {@link FitSpec} can name. */
export type OptimizerKind = 'adam' | 'sgd' | 'momentum' | 'rmsprop' | 'adagrad' | 'adamax';

/** Upper bounds a worker enforces on jobs (override in `WorkerOptions.limits`). */
export interface JobLimits {
  readonly maxChainsPerJob: number;
  readonly maxDim: number;
  readonly maxSteps: number;
  /** Largest `chains × kept draws × dim` of a `samples` job (default 2²⁴ floats: 64 MiB). */
  readonly maxResultFloats: number;
}

/** Default {@link JobLimits}. */
export const DEFAULT_JOB_LIMITS: JobLimits = Object.freeze({
  maxChainsPerJob: 1_000_000,
  maxDim: 65_536,
  maxSteps: 100_000_000,
  maxResultFloats: 1 << 24,
});

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a run id: 1–64 characters `[A-Za-z0-9_-]` (it becomes part of Redis keys and job ids). */
export function assertRunId(path: string, value: unknown): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) {
    throw invalidJob(path, 'must be 1–64 characters [A-Za-z0-9_-].', value);
  }
  return value;
}

function component(path: string, v: unknown): ComponentSpec {
  const o = assertObject(path, v, ['kind', 'params'], ['kind']);
  const kind = assertName(`${path}.kind`, o.kind);
  if (o.params === undefined) return { kind };
  const params = assertJson(`${path}.params`, o.params);
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw invalidJob(`${path}.params`, 'must be an object.', params);
  }
  return { kind, params };
}

/** Validates a chain-batch payload (untrusted) and returns it typed. */
export function parseChainBatchJob(data: unknown, limits: JobLimits = DEFAULT_JOB_LIMITS): ChainBatchJob {
  const o = assertObject(
    'job',
    data,
    [
      'type',
      'runId',
      'index',
      'energy',
      'sampler',
      'chainStart',
      'chainEnd',
      'dim',
      'seed',
      'nSteps',
      'burnIn',
      'thin',
      'output',
      'maxLag',
      'checkpointEvery',
    ],
    [
      'type',
      'runId',
      'index',
      'energy',
      'sampler',
      'chainStart',
      'chainEnd',
      'dim',
      'seed',
      'nSteps',
      'burnIn',
      'thin',
      'output',
      'checkpointEvery',
    ],
  );
  if (o.type !== 'chains') throw invalidJob('job.type', "must be 'chains'.", o.type);
  const chainStart = assertInt('job.chainStart', o.chainStart, 0);
  const chainEnd = assertInt('job.chainEnd', o.chainEnd, chainStart + 1, chainStart + limits.maxChainsPerJob);
  const dim = assertInt('job.dim', o.dim, 1, limits.maxDim);
  const nSteps = assertInt('job.nSteps', o.nSteps, 1, limits.maxSteps);
  const burnIn = assertInt('job.burnIn', o.burnIn, 0, limits.maxSteps);
  const thin = assertInt('job.thin', o.thin, 1, nSteps);
  const output = assertOneOf('job.output', o.output, ['samples', 'summary'] as const);
  const nKept = Math.floor(nSteps / thin);
  if (output === 'summary' && nKept < 4) {
    throw invalidJob('job.nSteps', 'must keep at least 4 draws per chain for summaries.', nKept);
  }
  const floats = (chainEnd - chainStart) * nKept * dim;
  if (floats > limits.maxResultFloats) {
    throw invalidJob(
      'job',
      `would hold ${floats} floats of draws, more than the limit ${limits.maxResultFloats}.`,
      floats,
      'use fewer chains per job, a larger thin, or raise the worker limit.',
    );
  }
  const job: ChainBatchJob = {
    type: 'chains',
    runId: assertRunId('job.runId', o.runId),
    index: assertInt('job.index', o.index, 0),
    energy: component('job.energy', o.energy),
    sampler: component('job.sampler', o.sampler),
    chainStart,
    chainEnd,
    dim,
    seed: assertInt('job.seed', o.seed, 0),
    nSteps,
    burnIn,
    thin,
    output,
    checkpointEvery: assertInt('job.checkpointEvery', o.checkpointEvery, 1, limits.maxSteps),
    ...(o.maxLag === undefined ? {} : { maxLag: assertInt('job.maxLag', o.maxLag, 1, nKept) }),
  };
  return job;
}

/** Validates a training payload (untrusted) and returns it typed. */
export function parseTrainJob(data: unknown): TrainJob {
  const o = assertObject(
    'job',
    data,
    ['type', 'runId', 'index', 'trainer', 'config', 'seed', 'label'],
    ['type', 'runId', 'index', 'trainer', 'config', 'seed'],
  );
  if (o.type !== 'train') throw invalidJob('job.type', "must be 'train'.", o.type);
  const config = assertJson('job.config', o.config);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalidJob('job.config', 'must be an object.', config);
  }
  if (o.label !== undefined && (typeof o.label !== 'string' || o.label.length > 256)) {
    throw invalidJob('job.label', 'must be a string of at most 256 characters.', o.label);
  }
  return {
    type: 'train',
    runId: assertRunId('job.runId', o.runId),
    index: assertInt('job.index', o.index, 0),
    trainer: assertName('job.trainer', o.trainer),
    config,
    seed: assertInt('job.seed', o.seed, 0),
    ...(o.label === undefined ? {} : { label: o.label as string }),
  };
}

/** Validates any job payload. */
export function parseJob(data: unknown, limits?: JobLimits): JobSpec {
  const type = data !== null && typeof data === 'object' ? (data as { type?: unknown }).type : undefined;
  if (type === 'chains') return parseChainBatchJob(data, limits);
  if (type === 'train') return parseTrainJob(data);
  throw invalidJob('job.type', "must be 'chains' or 'train'.", type);
}

/** Validates a {@link FitSpec} (untrusted). */
export function parseFitSpec(data: unknown): FitSpec {
  const o = assertObject(
    'config',
    data,
    [
      'dataset',
      'energy',
      'sampler',
      'loss',
      'optimizer',
      'steps',
      'batchSize',
      'checkpointEvery',
      'evaluate',
    ],
    ['dataset', 'energy', 'loss', 'optimizer', 'steps'],
  );
  const opt = assertObject(
    'config.optimizer',
    o.optimizer,
    ['kind', 'learningRate'],
    ['kind', 'learningRate'],
  );
  const lr = opt.learningRate;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0 || lr > 10) {
    throw invalidJob('config.optimizer.learningRate', 'must be a number in (0, 10].', lr);
  }
  let evaluate: JsonObject | undefined;
  if (o.evaluate !== undefined) {
    const e = assertJson('config.evaluate', o.evaluate);
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      throw invalidJob('config.evaluate', 'must be an object.', e);
    }
    evaluate = e;
  }
  return {
    dataset: component('config.dataset', o.dataset),
    energy: component('config.energy', o.energy),
    ...(o.sampler === undefined ? {} : { sampler: component('config.sampler', o.sampler) }),
    loss: component('config.loss', o.loss),
    optimizer: {
      kind: assertOneOf('config.optimizer.kind', opt.kind, [
        'adam',
        'sgd',
        'momentum',
        'rmsprop',
        'adagrad',
        'adamax',
      ] as const),
      learningRate: lr,
    },
    steps: assertInt('config.steps', o.steps, 1, 10_000_000),
    ...(o.batchSize === undefined
      ? {}
      : { batchSize: assertInt('config.batchSize', o.batchSize, 1, 1 << 24) }),
    ...(o.checkpointEvery === undefined
      ? {}
      : { checkpointEvery: assertInt('config.checkpointEvery', o.checkpointEvery, 1, 10_000_000) }),
    ...(evaluate === undefined ? {} : { evaluate }),
  };
}
