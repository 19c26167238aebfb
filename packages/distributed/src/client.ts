import { randomUUID } from 'node:crypto';
import { assertKnownOptions, EbmError, optionKeys } from '@ebm/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  assertReachable,
  connectRedis,
  keyPrefix,
  type RedisConnectionOptions,
  redisOptions,
} from './connection.js';
import { decodeFloat32, decodeFloat64 } from './encode.js';
import {
  assertRunId,
  type ChainBatchJob,
  type ChainOutput,
  type ComponentSpec,
  parseChainBatchJob,
  parseTrainJob,
  type TrainJob,
} from './specs.js';
import { RunStore } from './store.js';
import {
  type ChainSummaries,
  concatSummaries,
  type MergedStats,
  mergedStats,
  mergedStatsFromDraws,
} from './summaries.js';
import {
  assertInt,
  assertObject,
  invalidJob,
  type JsonObject,
  type JsonValue,
  parseJson,
} from './validate.js';
import type { JobProgress } from './worker.js';

/**
 * # The client: submit, follow, merge
 *
 * {@link DistributedClient.submitChains} splits `nChains` chains into jobs of `chainsPerJob` and queues them;
 * {@link DistributedClient.submitTraining} queues one job per training run. `wait` follows a run — jobs done,
 * chains done (from the workers' progress), elapsed time and ETA — until every job's result is stored, and
 * fails early with the worker's message when a job fails for good. `chainResult` merges the chain batches
 * (summaries, and the draws for `samples` output) into one result with pooled moments, split-R̂ and ESS over
 * all chains: identical whatever the split and the number of workers.
 * @module
 */

/** A sampling run to split into chain-batch jobs. */
export interface ChainRunSpec {
  readonly energy: ComponentSpec;
  readonly sampler: ComponentSpec;
  readonly nChains: number;
  readonly chainsPerJob: number;
  readonly dim: number;
  readonly seed?: number;
  readonly nSteps: number;
  readonly burnIn?: number;
  readonly thin?: number;
  /** `summary` (default) or `samples` (every kept draw comes back; also gives rank-normalised R̂/ESS). */
  readonly output?: ChainOutput;
  readonly maxLag?: number;
  /** Steps between checkpoints (default: about 10 per job). */
  readonly checkpointEvery?: number;
  /** Run id (default: random). */
  readonly runId?: string;
  /** Delivery attempts per job after errors (default 5). Crashed workers are handled by stalled checks. */
  readonly attempts?: number;
}

/** A training sweep: one job per entry. */
export interface TrainingSweepSpec {
  readonly runs: readonly {
    readonly trainer: string;
    readonly config: JsonObject;
    readonly seed: number;
    readonly label?: string;
  }[];
  readonly runId?: string;
  readonly attempts?: number;
}

/** Progress of a run, as `wait` reports it. */
export interface RunProgress {
  readonly runId: string;
  readonly jobsDone: number;
  readonly jobsTotal: number;
  /** Chains finished (completed jobs plus the done fraction of running ones); 0 for training runs. */
  readonly chainsDone: number;
  readonly chainsTotal: number;
  /** Fraction of the work done, in [0, 1]. */
  readonly fraction: number;
  readonly elapsedMs: number;
  /** Estimated time to completion (ms), `undefined` until some work is done. */
  readonly etaMs: number | undefined;
}

/** A merged chain run. */
export interface ChainRunResult {
  readonly runId: string;
  readonly nChains: number;
  readonly nKept: number;
  readonly dim: number;
  readonly summaries: ChainSummaries;
  readonly stats: MergedStats;
  /** Chain-major draws `[nChains, nKept, dim]` (`samples` output). */
  readonly draws?: Float32Array;
  /** Per job: the backend and worker that stored the result, its time, and the step it resumed from. */
  readonly jobs: { index: number; backend: string; worker: string; ms: number; resumedFrom: number }[];
}

/** One training result. */
export interface TrainingRunResult {
  readonly index: number;
  readonly label: string | null;
  readonly backend: string;
  readonly worker: string;
  readonly ms: number;
  readonly result: JsonObject;
}

interface RunMeta {
  type: 'chains' | 'train';
  jobs: number;
  chains: number;
  stepsPerJob: number[];
  chainsPerJobList: number[];
  created: number;
}

const MAX_RESULT_BYTES = 512 * 1024 * 1024;

/** Options of {@link DistributedClient}. */
export interface ClientOptions {
  readonly connection?: RedisConnectionOptions;
  /** Queue name (default `ebm-jobs`). */
  readonly queue?: string;
}

const CLIENT_KEYS = optionKeys<ClientOptions>({ connection: true, queue: true });

/** Submits runs and collects their results (see the module docs). */
export class DistributedClient {
  private readonly redis: Redis;
  private readonly url: string;
  private readonly queueConn: Redis;
  private readonly queue: Queue;
  private readonly store: RunStore;

  constructor(options: ClientOptions = {}) {
    assertKnownOptions('DistributedClient', options, CLIENT_KEYS);
    const prefix = keyPrefix(options.connection);
    this.url = redisOptions(options.connection).url;
    this.redis = connectRedis(options.connection);
    this.queueConn = connectRedis(options.connection);
    this.queue = new Queue(options.queue ?? 'ebm-jobs', {
      connection: this.queueConn,
      prefix: `${prefix}:bull`,
    });
    this.store = new RunStore(this.redis, prefix);
  }

  /** Throws a clear `BACKEND_UNAVAILABLE` error when Redis does not answer or refuses the credentials. */
  async ping(timeoutMs = 10_000): Promise<void> {
    await assertReachable(this.redis, this.url, timeoutMs);
  }

  /** Splits a sampling run into chain-batch jobs and queues them; returns the run id. */
  async submitChains(spec: ChainRunSpec): Promise<string> {
    const runId = spec.runId === undefined ? randomUUID() : assertRunId('runId', spec.runId);
    const n = assertInt('nChains', spec.nChains, 1);
    const per = assertInt('chainsPerJob', spec.chainsPerJob, 1);
    const total = (spec.burnIn ?? 0) + spec.nSteps;
    const jobs: ChainBatchJob[] = [];
    for (let a = 0, i = 0; a < n; a += per, i++) {
      const job = {
        type: 'chains',
        runId,
        index: i,
        energy: spec.energy,
        sampler: spec.sampler,
        chainStart: a,
        chainEnd: Math.min(n, a + per),
        dim: spec.dim,
        seed: spec.seed ?? 0,
        nSteps: spec.nSteps,
        burnIn: spec.burnIn ?? 0,
        thin: spec.thin ?? 1,
        output: spec.output ?? 'summary',
        checkpointEvery: spec.checkpointEvery ?? Math.max(1, Math.ceil(total / 10)),
        ...(spec.maxLag === undefined ? {} : { maxLag: spec.maxLag }),
      };
      jobs.push(parseChainBatchJob(JSON.parse(JSON.stringify(job)))); // the worker's checks, before queueing
    }
    const meta: RunMeta = {
      type: 'chains',
      jobs: jobs.length,
      chains: n,
      stepsPerJob: jobs.map(() => total),
      chainsPerJobList: jobs.map((j) => j.chainEnd - j.chainStart),
      created: Date.now(),
    };
    await this.store.putMeta(runId, JSON.stringify(meta));
    await this.enqueue(runId, jobs, spec.attempts);
    return runId;
  }

  /** Queues one job per training run; returns the run id. */
  async submitTraining(spec: TrainingSweepSpec): Promise<string> {
    const runId = spec.runId === undefined ? randomUUID() : assertRunId('runId', spec.runId);
    if (!Array.isArray(spec.runs) || spec.runs.length === 0) {
      throw invalidJob('runs', 'must be a non-empty array.', spec.runs);
    }
    const jobs: TrainJob[] = spec.runs.map((r, index) =>
      parseTrainJob(JSON.parse(JSON.stringify({ type: 'train', runId, index, ...r }))),
    );
    const steps = jobs.map((j) => {
      const s = (j.config as { steps?: unknown }).steps;
      return typeof s === 'number' ? s : 1;
    });
    const meta: RunMeta = {
      type: 'train',
      jobs: jobs.length,
      chains: 0,
      stepsPerJob: steps,
      chainsPerJobList: jobs.map(() => 0),
      created: Date.now(),
    };
    await this.store.putMeta(runId, JSON.stringify(meta));
    await this.enqueue(runId, jobs, spec.attempts);
    return runId;
  }

  private async enqueue(
    runId: string,
    jobs: readonly (ChainBatchJob | TrainJob)[],
    attempts = 5,
  ): Promise<void> {
    await this.queue.addBulk(
      jobs.map((data) => ({
        name: data.type,
        data,
        opts: {
          // A fixed id per (run, index): submitting the same job again does not queue it twice.
          jobId: `${runId}_${data.index}`,
          attempts,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
  }

  private async meta(runId: string): Promise<RunMeta> {
    const raw = await this.store.getMeta(assertRunId('runId', runId));
    if (raw === null) {
      throw new EbmError('INVALID_PARAM', `No run "${runId}" is known to this Redis.`, {
        argument: 'runId',
        value: runId,
        fix: 'pass the id returned by submitChains / submitTraining (same Redis URL and prefix).',
      });
    }
    return JSON.parse(raw) as RunMeta;
  }

  /** The progress of a run now. */
  async progress(runId: string, startedAt?: number): Promise<RunProgress> {
    const meta = await this.meta(runId);
    const results = await this.redis.hkeys(`${this.store.prefix}:run:${runId}:results`);
    const done = new Set(results.map(Number));
    const totalWork = meta.stepsPerJob.reduce((a, s, i) => a + s * Math.max(1, meta.chainsPerJobList[i]!), 0);
    let work = 0;
    let chainsDone = 0;
    for (const i of done) {
      work += meta.stepsPerJob[i]! * Math.max(1, meta.chainsPerJobList[i]!);
      chainsDone += meta.chainsPerJobList[i]!;
    }
    const active = await this.queue.getJobs(['active'], 0, 1000);
    for (const j of active) {
      if (!j.id?.startsWith(`${runId}_`)) continue;
      const i = Number(j.id.slice(runId.length + 1));
      if (done.has(i)) continue;
      const p = j.progress as Partial<JobProgress> | undefined;
      if (p && typeof p.step === 'number' && typeof p.total === 'number' && p.total > 0) {
        const f = Math.min(1, p.step / p.total);
        work += f * meta.stepsPerJob[i]! * Math.max(1, meta.chainsPerJobList[i]!);
        chainsDone += f * meta.chainsPerJobList[i]!;
      }
    }
    const fraction = totalWork > 0 ? Math.min(1, work / totalWork) : 0;
    const elapsedMs = Date.now() - (startedAt ?? meta.created);
    return {
      runId,
      jobsDone: done.size,
      jobsTotal: meta.jobs,
      chainsDone,
      chainsTotal: meta.chains,
      fraction,
      elapsedMs,
      etaMs:
        fraction > 0 && fraction < 1
          ? (elapsedMs / fraction) * (1 - fraction)
          : fraction >= 1
            ? 0
            : undefined,
    };
  }

  /**
   * Waits until every job of the run has a result; reports progress every `pollMs` (default 500). Rejects when a
   * job has failed for good (invalid payload, or out of attempts) or after `timeoutMs`.
   */
  async wait(
    runId: string,
    options: { onProgress?: (p: RunProgress) => void; pollMs?: number; timeoutMs?: number } = {},
  ): Promise<RunProgress> {
    const started = Date.now();
    const meta = await this.meta(runId);
    for (;;) {
      const p = await this.progress(runId);
      options.onProgress?.(p);
      if (p.jobsDone >= meta.jobs) return p;
      const failed = await this.queue.getJobs(['failed'], 0, 1000);
      for (const j of failed) {
        if (!j.id?.startsWith(`${runId}_`)) continue;
        // A job in BullMQ's failed set is final (a job to be retried waits in 'delayed' or 'wait').
        if (!(await this.store.hasResult(runId, Number(j.id.slice(runId.length + 1))))) {
          throw new EbmError('INVALID_PARAM', `Job ${j.id} failed: ${j.failedReason}`, {
            argument: 'job',
            value: j.id,
            fix: 'read the reason; fix the job or the worker registry and submit again.',
          });
        }
      }
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new EbmError('ABORTED', `Run ${runId} did not finish within ${options.timeoutMs} ms.`, {
          argument: 'timeoutMs',
          value: options.timeoutMs,
          fix: 'start more workers or wait longer.',
        });
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
    }
  }

  /** How many times each job was picked up (1 = once; more after crashes, stalls or duplicates). */
  async deliveries(runId: string): Promise<Record<number, number>> {
    const raw = await this.store.deliveries(assertRunId('runId', runId));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [Number(k), Number(v)]));
  }

  /** Merges the results of a finished chain run (see the module docs). */
  async chainResult(runId: string): Promise<ChainRunResult> {
    const meta = await this.meta(runId);
    if (meta.type !== 'chains') throw invalidJob('runId', 'is not a chain run.', runId);
    const raw = await this.store.results(runId);
    const parts = [];
    for (let i = 0; i < meta.jobs; i++) {
      if (!Object.hasOwn(raw, String(i))) {
        throw new EbmError('STATE_ERROR', `Run ${runId} has no result for job ${i} yet.`, {
          argument: 'runId',
          value: i,
          fix: 'await client.wait(runId) first.',
        });
      }
      parts.push(parseChainRecord(raw[String(i)]!, i));
    }
    parts.sort((a, b) => a.chainStart - b.chainStart);
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]!.chainStart !== parts[i - 1]!.chainEnd) {
        throw invalidJob('results', 'do not tile the chain range.', [
          parts[i - 1]!.chainEnd,
          parts[i]!.chainStart,
        ]);
      }
    }
    const summaries = concatSummaries(parts.map((p) => p.summaries));
    const { nChains, nKept, dim } = summaries;
    let draws: Float32Array | undefined;
    if (parts.every((p) => p.draws !== undefined)) {
      draws = new Float32Array(nChains * nKept * dim);
      let o = 0;
      for (const p of parts) {
        draws.set(p.draws!, o);
        o += p.draws!.length;
      }
    }
    return {
      runId,
      nChains,
      nKept,
      dim,
      summaries,
      stats: draws ? mergedStatsFromDraws(draws, nChains, nKept, dim) : mergedStats(summaries),
      ...(draws === undefined ? {} : { draws }),
      jobs: parts.map((p) => p.job),
    };
  }

  /** The results of a finished training sweep, in submission order. */
  async trainingResults(runId: string): Promise<TrainingRunResult[]> {
    const meta = await this.meta(runId);
    if (meta.type !== 'train') throw invalidJob('runId', 'is not a training run.', runId);
    const raw = await this.store.results(runId);
    const out: TrainingRunResult[] = [];
    for (let i = 0; i < meta.jobs; i++) {
      const s = raw[String(i)];
      if (s === undefined) {
        throw new EbmError('STATE_ERROR', `Run ${runId} has no result for job ${i} yet.`, {
          argument: 'runId',
          value: i,
          fix: 'await client.wait(runId) first.',
        });
      }
      const o = assertObject(
        'result',
        parseJson('result', s, MAX_RESULT_BYTES),
        ['type', 'index', 'label', 'result', 'backend', 'worker', 'ms'],
        ['type', 'index', 'result', 'backend', 'worker', 'ms'],
      );
      out.push({
        index: assertInt('result.index', o.index, i, i),
        label: typeof o.label === 'string' ? o.label : null,
        backend: String(o.backend),
        worker: String(o.worker),
        ms: Number(o.ms),
        result: o.result as JsonObject,
      });
    }
    return out;
  }

  /** Removes a run's jobs and keys from Redis. */
  async deleteRun(runId: string): Promise<void> {
    const meta = await this.meta(runId);
    for (let i = 0; i < meta.jobs; i++) await this.queue.remove(`${runId}_${i}`).catch(() => 0);
    await this.store.deleteRun(runId);
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.queue.close();
    this.queueConn.disconnect();
    this.redis.disconnect();
  }
}

/** Validates one stored chain result (untrusted) into summaries and draws. */
function parseChainRecord(text: string, index: number) {
  const o = assertObject(
    'result',
    parseJson('result', text, MAX_RESULT_BYTES, { maxDepth: 4, maxString: MAX_RESULT_BYTES, maxEntries: 64 }),
    [
      'type',
      'index',
      'chainStart',
      'chainEnd',
      'nKept',
      'dim',
      'maxLag',
      'resumedFrom',
      'summaries',
      'draws',
      'backend',
      'worker',
      'ms',
    ],
    [
      'type',
      'index',
      'chainStart',
      'chainEnd',
      'nKept',
      'dim',
      'maxLag',
      'summaries',
      'backend',
      'worker',
      'ms',
    ],
  );
  assertInt('result.index', o.index, index, index);
  const chainStart = assertInt('result.chainStart', o.chainStart, 0);
  const chainEnd = assertInt('result.chainEnd', o.chainEnd, chainStart + 1);
  const nKept = assertInt('result.nKept', o.nKept, 4);
  const dim = assertInt('result.dim', o.dim, 1);
  const maxLag = assertInt('result.maxLag', o.maxLag, 0, nKept);
  const b = chainEnd - chainStart;
  const s = assertObject('result.summaries', o.summaries, [
    'mean',
    'm2',
    'halfMean',
    'halfVar',
    'halfMin',
    'halfMax',
    'halfAcov',
  ]);
  const summaries: ChainSummaries = {
    nChains: b,
    nKept,
    dim,
    maxLag,
    mean: decodeFloat64('result.summaries.mean', s.mean, b * dim),
    m2: decodeFloat64('result.summaries.m2', s.m2, b * dim),
    halfMean: decodeFloat64('result.summaries.halfMean', s.halfMean, 2 * b * dim),
    halfVar: decodeFloat64('result.summaries.halfVar', s.halfVar, 2 * b * dim),
    halfMin: decodeFloat64('result.summaries.halfMin', s.halfMin, 2 * b * dim),
    halfMax: decodeFloat64('result.summaries.halfMax', s.halfMax, 2 * b * dim),
    halfAcov: decodeFloat64('result.summaries.halfAcov', s.halfAcov, 2 * b * dim * (maxLag + 1)),
  };
  const draws = o.draws === undefined ? undefined : decodeFloat32('result.draws', o.draws, b * nKept * dim);
  const job = {
    index,
    backend: String(o.backend),
    worker: String(o.worker),
    ms: Number(o.ms),
    resumedFrom: typeof o.resumedFrom === 'number' ? o.resumedFrom : 0,
  };
  return { chainStart, chainEnd, summaries, draws, job };
}

export type { JsonValue };
