import { hostname } from 'node:os';
import { EbmError, isEbmError } from '@ebm/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { selectBackend } from './backend.js';
import { type ChainBatchResult, parseChainCheckpoint, runChainBatch } from './chain-batch.js';
import {
  assertReachable,
  connectRedis,
  keyPrefix,
  type RedisConnectionOptions,
  redisOptions,
} from './connection.js';
import { decodeFloat32, encodeFloats } from './encode.js';
import { defineRegistry, lookup, type Registry, type Trainer } from './registry.js';
import { type ChainBatchJob, DEFAULT_JOB_LIMITS, type JobLimits, parseJob, type TrainJob } from './specs.js';
import { RunStore } from './store.js';
import { assertInt, assertObject, invalidJob, type JsonValue, parseJson } from './validate.js';

/**
 * # A worker: a plain Node process that runs jobs
 *
 * {@link startWorker} picks its tfjs backend (webgpu where a GPU is found, else wasm or cpu — or the registry's
 * `setupBackend`), then takes jobs from the BullMQ queue one at a time. For each job it:
 * 1. validates the payload (untrusted: unknown fields, bad types, limits → the job fails at once, no retry);
 * 2. returns at once when the job's result is already stored (a duplicate delivery is idempotent);
 * 3. resumes from the job's last checkpoint when an earlier delivery died (e.g. `kill -9`; BullMQ's stalled-job
 *    check hands the job to another worker once its lock expires);
 * 4. runs it, saving checkpoints and progress as it goes, and stores the result with `HSETNX` (first writer
 *    wins; every delivery computes the same numbers).
 * It reports its backend and host in every result and in its log.
 * @module
 */

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  readonly registry: Registry;
  readonly connection?: RedisConnectionOptions;
  /** Queue name (default `ebm-jobs`). */
  readonly queue?: string;
  /** `auto` (default), `webgpu`, `wasm`, `cpu`. */
  readonly backend?: string;
  /** Dawn adapter name filter for WebGPU. */
  readonly gpuAdapter?: string;
  /**
   * Lock duration in ms (default 30 000): a worker that dies holds its job this long before another worker
   * takes it over (renewed every half period while alive).
   */
  readonly lockDurationMs?: number;
  /** How often to look for stalled jobs (default: the lock duration). */
  readonly stalledIntervalMs?: number;
  /** Job size limits (untrusted payloads). */
  readonly limits?: Partial<JobLimits>;
  /** Largest checkpoint or payload read back from Redis, bytes (default 256 MiB). */
  readonly maxCheckpointBytes?: number;
  /** Log lines (default: stderr). Pass `() => {}` to silence. */
  readonly log?: (line: string) => void;
  /** A name for this worker in results (default `host:pid`). */
  readonly name?: string;
}

/** A running worker. */
export interface WorkerHandle {
  /** The tfjs backend the worker runs on. */
  readonly backend: string;
  readonly name: string;
  /** Finishes the current job (or abandons it when `force`) and disconnects. */
  close(force?: boolean): Promise<void>;
  /** Resolves when the worker is connected and waiting for jobs. */
  readonly ready: Promise<void>;
}

/** Progress a worker reports for a job (`job.progress`). */
export interface JobProgress {
  readonly step: number;
  readonly total: number;
  readonly chains: number;
  readonly worker: string;
  readonly pid: number;
}

/** Starts a worker (see the module docs). */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const registry = defineRegistry(options.registry);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const limits: JobLimits = { ...DEFAULT_JOB_LIMITS, ...options.limits };
  const maxBytes = options.maxCheckpointBytes ?? 256 * 1024 * 1024;
  const backend = registry.setupBackend
    ? await registry.setupBackend(options.backend ?? 'auto')
    : await selectBackend({
        preference: options.backend ?? 'auto',
        ...(options.gpuAdapter === undefined ? {} : { gpuAdapter: options.gpuAdapter }),
      });
  const prefix = keyPrefix(options.connection);
  const redis = connectRedis(options.connection);
  try {
    await assertReachable(redis, redisOptions(options.connection).url);
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const store = new RunStore(redis, prefix);
  const abort = new AbortController();
  log(`[ebm-worker ${name}] backend ${backend}, queue ${options.queue ?? 'ebm-jobs'}`);

  const processor = async (job: Job): Promise<JsonValue> => {
    let spec: ReturnType<typeof parseJob>;
    try {
      spec = parseJob(job.data, limits);
    } catch (e) {
      log(`[ebm-worker ${name}] rejected job ${job.id}: ${(e as Error).message}`);
      throw new UnrecoverableError((e as Error).message);
    }
    await store.countDelivery(spec.runId, spec.index);
    if (await store.hasResult(spec.runId, spec.index)) return { duplicate: true, worker: name };
    const t0 = performance.now();
    let lastProgress = 0;
    const progress = (step: number, total: number, chains: number) => {
      const now = performance.now();
      if (now - lastProgress < 250 && step < total) return;
      lastProgress = now;
      const p: JobProgress = { step, total, chains, worker: name, pid: process.pid };
      job.updateProgress(p as unknown as Record<string, unknown>).catch(() => {});
    };
    try {
      const stored =
        spec.type === 'chains'
          ? await runChains(spec, progress)
          : await runTrain(spec, (s, t) => progress(s, t, 0));
      const record = { ...stored, backend, worker: name, ms: Math.round(performance.now() - t0) };
      const mine = await store.putResult(spec.runId, spec.index, JSON.stringify(record));
      await store.deleteCheckpoint(spec.runId, spec.index);
      return { stored: mine, backend, worker: name };
    } catch (e) {
      // Bad input found while building or resuming (unknown kind, bad parameters, corrupt checkpoint) will
      // fail again on every retry: fail the job now with the message.
      if (isEbmError(e) && (e as EbmError).code === 'INVALID_PARAM') {
        log(`[ebm-worker ${name}] job ${job.id} failed: ${(e as Error).message}`);
        throw new UnrecoverableError((e as Error).message);
      }
      throw e;
    }
  };

  const runChains = async (spec: ChainBatchJob, progress: (s: number, t: number, c: number) => void) => {
    const resumeFrom = await loadChainCheckpoint(spec);
    let segments = resumeFrom?.segments ?? 0;
    if (resumeFrom)
      log(
        `[ebm-worker ${name}] job ${spec.runId}#${spec.index} resumes at step ${resumeFrom.checkpoint.step}`,
      );
    const b = spec.chainEnd - spec.chainStart;
    const r: ChainBatchResult = await runChainBatch(registry, spec, {
      ...(resumeFrom === undefined ? {} : { resumeFrom: resumeFrom.checkpoint }),
      onCheckpoint: async (c) => {
        segments += c.segmentKept > 0 ? 1 : 0;
        const head = { version: 1, step: c.step, state: c.state, kept: c.kept, segments };
        await store.appendCheckpoint(
          spec.runId,
          spec.index,
          JSON.stringify(head),
          c.segmentKept > 0 ? c.segmentDraws : undefined,
        );
      },
      onProgress: (s, t) => progress(s, t, (b * s) / t),
      signal: abort.signal,
    });
    const s = r.summaries;
    return {
      type: 'chains' as const,
      index: spec.index,
      chainStart: r.chainStart,
      chainEnd: r.chainEnd,
      nKept: r.nKept,
      dim: r.dim,
      maxLag: s.maxLag,
      resumedFrom: r.resumedFrom,
      summaries: {
        mean: encodeFloats(s.mean),
        m2: encodeFloats(s.m2),
        halfMean: encodeFloats(s.halfMean),
        halfVar: encodeFloats(s.halfVar),
        halfMin: encodeFloats(s.halfMin),
        halfMax: encodeFloats(s.halfMax),
        halfAcov: encodeFloats(s.halfAcov),
      },
      ...(r.draws === undefined ? {} : { draws: encodeFloats(r.draws) }),
    };
  };

  /** The job's incremental checkpoint (head + segments), validated, or `undefined`. */
  const loadChainCheckpoint = async (spec: ChainBatchJob) => {
    const raw = await store.getCheckpoint(spec.runId, spec.index);
    if (raw === null) return undefined;
    const head = assertObject(
      'checkpoint',
      parseJson('checkpoint', raw, maxBytes),
      ['version', 'step', 'state', 'kept', 'segments'],
      ['version', 'step', 'state', 'kept', 'segments'],
    );
    const segments = assertInt('checkpoint.segments', head.segments, 0, 1 << 20);
    const segs = await store.getSegments(spec.runId, spec.index, segments);
    if (segs.length !== segments)
      throw invalidJob('checkpoint.segments', `lists ${segments}, found ${segs.length}.`);
    const draws = Buffer.concat(
      segs.map((x, i) => Buffer.from(decodeFloat32(`checkpoint.segments[${i}]`, x).buffer)),
    );
    const checkpoint = parseChainCheckpoint(
      {
        version: head.version,
        step: head.step,
        state: head.state,
        kept: head.kept,
        draws: draws.toString('base64'),
      },
      spec,
    );
    return { checkpoint, segments };
  };

  const runTrain = async (spec: TrainJob, progress: (s: number, t: number) => void) => {
    const trainer = lookup(registry, 'trainers', spec.trainer) as Trainer;
    const saved = await store.getCheckpoint(spec.runId, spec.index);
    const resumeFrom =
      saved === null
        ? undefined
        : parseJson('checkpoint', saved, maxBytes, {
            maxDepth: 12,
            maxString: maxBytes,
            maxEntries: 1 << 26,
          });
    if (resumeFrom !== undefined) log(`[ebm-worker ${name}] job ${spec.runId}#${spec.index} resumes`);
    const result = await trainer({
      job: spec,
      config: spec.config,
      seed: spec.seed,
      resumeFrom,
      checkpoint: (state) => store.putCheckpoint(spec.runId, spec.index, JSON.stringify(state)),
      progress,
      signal: abort.signal,
      backend,
      registry,
    });
    return { type: 'train' as const, index: spec.index, label: spec.label ?? null, result };
  };

  const lockDuration = options.lockDurationMs ?? 30_000;
  const workerConnection = connectRedis(options.connection);
  const worker = new Worker(options.queue ?? 'ebm-jobs', processor, {
    connection: workerConnection,
    prefix: `${prefix}:bull`,
    concurrency: 1,
    lockDuration,
    stalledInterval: options.stalledIntervalMs ?? lockDuration,
    maxStalledCount: 5,
    autorun: true,
  });
  worker.on('error', (e) => log(`[ebm-worker ${name}] ${e.message}`));
  worker.on('failed', (job, e) => log(`[ebm-worker ${name}] job ${job?.id} failed: ${e.message}`));
  const ready = worker.waitUntilReady().then(() => undefined);
  return {
    backend,
    name,
    ready,
    close: async (force = false) => {
      if (force) abort.abort(new EbmError('ABORTED', 'worker closing', { fix: 'restart the worker.' }));
      await worker.close(force);
      workerConnection.disconnect();
      redis.disconnect();
    },
  };
}
