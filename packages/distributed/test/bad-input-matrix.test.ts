/**
 * The bad-input matrix of @ebm/distributed (the parts that need no Redis): job documents (untrusted JSON from
 * the queue), fit specs, payload parsing, the float codecs, the summaries and their merge, the registry and
 * fitTrainer × the classic bad values must give a clear EbmError (see `badInputCases` in @ebm/core/testing).
 * Entry points that talk to Redis or spawn processes are covered by cluster.test.ts (with Redis).
 */
import { type BadInputCase, badInputCases, describeBadInputMatrix } from '@ebm/core/testing';
import { describe, it } from 'vitest';
import * as dist from '../src/index.js';
import {
  concatSummaries,
  DistributedClient,
  decodeFloat32,
  decodeFloat64,
  defineRegistry,
  encodeFloats,
  fitTrainer,
  lookup,
  mergedStats,
  mergedStatsFromDraws,
  parseChainBatchJob,
  parseFitSpec,
  parseJob,
  parseJson,
  parseTrainJob,
  redisOptions,
  summarizeDraws,
  x0Rows,
} from '../src/index.js';

const job = {
  type: 'chains',
  runId: 'r1',
  index: 0,
  energy: { kind: 'doubleWell', params: {} },
  sampler: { kind: 'mala', params: { stepSize: 0.1 } },
  chainStart: 0,
  chainEnd: 4,
  dim: 2,
  seed: 1,
  nSteps: 10,
  burnIn: 0,
  thin: 1,
  output: 'summary',
  checkpointEvery: 5,
};
const withJob = (k: string) => (v: unknown) => parseChainBatchJob({ ...job, [k]: v });
const intSpec = (min: 'positive' | 'nonNegative') =>
  ({ type: 'number', min, integer: true, huge: 1e300 }) as const;
const fitSpec = {
  dataset: { kind: 'twoMoons' },
  energy: { kind: 'mlp' },
  loss: { kind: 'pcd' },
  optimizer: { kind: 'adam', learningRate: 0.01 },
  steps: 10,
};
const draws = new Float64Array(2 * 8 * 1).map((_, i) => Math.sin(i));

const cases: BadInputCase[] = [
  ...badInputCases('parseChainBatchJob', 'job', { type: 'options', required: true }, (v) =>
    parseChainBatchJob(v),
  ),
  ...badInputCases('parseChainBatchJob', 'nSteps', intSpec('positive'), withJob('nSteps')),
  ...badInputCases('parseChainBatchJob', 'dim', intSpec('positive'), withJob('dim')),
  ...badInputCases('parseChainBatchJob', 'thin', intSpec('positive'), withJob('thin')),
  ...badInputCases(
    'parseChainBatchJob',
    'burnIn',
    { type: 'number', min: 'nonNegative', integer: true },
    withJob('burnIn'),
  ),
  ...badInputCases('parseChainBatchJob', 'chainEnd', intSpec('positive'), withJob('chainEnd')),
  ...badInputCases(
    'parseChainBatchJob',
    'seed',
    { type: 'number', min: 'nonNegative', integer: true },
    withJob('seed'),
  ),
  ...badInputCases('parseChainBatchJob', 'output', { type: 'name' }, withJob('output')),
  ...badInputCases('parseChainBatchJob', 'energy', { type: 'options', required: true }, withJob('energy')),
  ...badInputCases('parseChainBatchJob', 'runId', { type: 'object', wrong: '../etc' }, withJob('runId')),
  ...badInputCases('parseJob', 'job', { type: 'options', required: true }, (v) => parseJob(v)),
  ...badInputCases('parseJob', 'type', { type: 'name' }, (v) => parseJob({ ...job, type: v })),
  ...badInputCases('parseTrainJob', 'job', { type: 'options', required: true }, (v) => parseTrainJob(v)),
  ...badInputCases('parseFitSpec', 'spec', { type: 'options', required: true }, (v) => parseFitSpec(v)),
  ...badInputCases('parseFitSpec', 'steps', intSpec('positive'), (v) =>
    parseFitSpec({ ...fitSpec, steps: v }),
  ),
  ...badInputCases('parseFitSpec', 'optimizer.learningRate', { type: 'number', min: 'positive' }, (v) =>
    parseFitSpec({ ...fitSpec, optimizer: { kind: 'adam', learningRate: v } }),
  ),
  ...badInputCases('parseFitSpec', 'optimizer.kind', { type: 'name' }, (v) =>
    parseFitSpec({ ...fitSpec, optimizer: { kind: v, learningRate: 0.01 } }),
  ),
  ...badInputCases('parseJson', 'text', { type: 'object', wrong: '{"a":' }, (v) =>
    parseJson('payload', v, 1000),
  ),
  ...badInputCases('parseJson', 'text (too long)', { type: 'object', wrong: `"${'x'.repeat(2000)}"` }, (v) =>
    parseJson('payload', v, 1000),
  ),
  ...badInputCases('decodeFloat32', 's', { type: 'object', wrong: '@@@' }, (v) => decodeFloat32('x', v, 2)),
  ...badInputCases('decodeFloat64', 's', { type: 'object', wrong: 5 }, (v) => decodeFloat64('x', v, 2)),
  ...badInputCases('encodeFloats', 'a', { type: 'object', wrong: [1, 2] }, (v) => encodeFloats(v as never)),
  ...badInputCases('summarizeDraws', 'nKept', { type: 'number', min: 'positive', integer: true }, (v) =>
    summarizeDraws(draws, 2, v as number, 1),
  ),
  ...badInputCases(
    'summarizeDraws',
    'draws',
    { type: 'object', wrong: [1, 2, 3] },
    (v) => summarizeDraws(v as never, 2, 8, 1),
    {
      codes: { 'wrong type': ['SHAPE_MISMATCH', 'INVALID_PARAM'] },
    },
  ),
  ...badInputCases('summarizeDraws', 'maxLag', { type: 'number', min: 'nonNegative', integer: true }, (v) =>
    summarizeDraws(draws, 2, 8, 1, v as number),
  ),
  ...badInputCases('concatSummaries', 'parts', { type: 'object', wrong: [] }, (v) =>
    concatSummaries(v as never),
  ),
  ...badInputCases('mergedStats', 'summaries', { type: 'object', wrong: 5 }, (v) => mergedStats(v as never)),
  ...badInputCases(
    'mergedStatsFromDraws',
    'nChains',
    { type: 'number', min: 'positive', integer: true },
    (v) => mergedStatsFromDraws(draws, v as number, 8, 1),
  ),
  ...badInputCases('x0Rows', 'x0', { type: 'object', wrong: 'x' }, (v) => x0Rows(v as never, 0, 2, 2)),
  ...badInputCases('defineRegistry', 'registry', { type: 'options', required: true }, (v) =>
    defineRegistry(v as never),
  ),
  ...badInputCases('lookup', 'name', { type: 'name' }, (v) =>
    lookup(defineRegistry({ energies: {} }), 'energies', v as string),
  ),
  ...badInputCases('fitTrainer', 'deps', { type: 'object', wrong: 5 }, (v) => fitTrainer(v as never)),
  ...badInputCases(
    'DistributedClient',
    'options',
    { type: 'options' },
    (v) => new DistributedClient(v as never),
  ),
  ...badInputCases('redisOptions', 'options', { type: 'options' }, (v) => redisOptions(v as never)),
];

const EXEMPT: Record<string, string> = {
  DEFAULT_JOB_LIMITS: 'a constant',
  DEFAULT_LIMITS: 'a constant',
  // the checks themselves
  assertInt: 'a check itself',
  assertJson: 'a check itself',
  assertName: 'a check itself',
  assertObject: 'a check itself',
  assertOneOf: 'a check itself',
  assertRunId: 'a check itself (parseChainBatchJob covers runId)',
  invalidJob: 'the error constructor',
  // need Redis, a worker process or a built registry: cluster.test.ts / train.test.ts (with Redis)
  connectRedis: 'Redis (cluster.test.ts)',
  assertReachable: 'Redis (cluster.test.ts)',
  keyPrefix: 'redisOptions (covered) underneath',
  startWorker: 'Redis (cluster.test.ts)',
  startLocalRedis: 'spawns redis-server (cluster.test.ts)',
  spawnWorkers: 'spawns processes (cluster.test.ts)',
  runChainBatch: 'runs a parsed job (parseChainBatchJob covers the document)',
  applyCheckpointDelta: 'applies a parsed checkpoint (parseChainCheckpoint covers the document)',
  parseChainCheckpoint: 'untrusted checkpoint: chain-batch.test.ts',
  buildEnergy: 'registry lookup (lookup covers names)',
  buildSampler: 'registry lookup (lookup covers names)',
  buildChainComponents: 'registry lookup (lookup covers names)',
  withChainOffset: 'wraps a kernel the registry built',
  selectBackend: 'environment probe',
};

describeBadInputMatrix({ describe, it }, '@ebm/distributed', cases, dist, EXEMPT, { suffix: '(no Redis)' });
