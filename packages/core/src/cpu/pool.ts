import * as tf from '@tensorflow/tfjs-core';
import { CHAIN_WORKER_SOURCE } from '../_generated/chain-worker-source.js';
import { EbmError } from '../errors.js';
import type { RngKey } from '../rng.js';
import { assertAllocation } from '../validation.js';
import { type HostChainSpec, isKeyPair, parseChainSpec, runChainHost, TILE_ROWS } from './host-chain.js';
import { hostParamsAsync } from './host-tensors.js';
import { normalRange } from './philox.js';

/**
 * # Chains on every core
 *
 * Chains are independent, so {@link runChainParallel} splits the rows of `x0` into contiguous blocks, one per
 * worker (`worker_threads` under Node, Web Workers in browsers), and runs the fused host chain
 * (`host-chain.ts`) on each. Row r always draws elements r·D … r·D + D − 1 of each step's Philox stream, so
 * **the result is bit-identical for any number of workers**, and equal to the `chain.<kind>` kernel on the
 * cpu backend for the same key.
 *
 * Where `SharedArrayBuffer` is available (Node; pages that are cross-origin isolated), the batch lives in shared
 * memory: each worker takes tiles of {@link TILE_ROWS} rows from a shared counter until none are left (a slow or
 * busy core takes fewer tiles) and updates them in place, so nothing is copied per worker. Elsewhere each worker
 * gets a contiguous block of rows (a multiple of 4 rows, so the SIMD tiles stay aligned), transferred both ways.
 * With `x0: { normal: key, shape }` the workers also draw the initial states, each its own rows (the calling
 * thread draws nothing). `result.timings` says where the time went.
 *
 * Workers start from a self-contained script held as a string (`src/_generated/chain-worker-source.js`,
 * generated at build time), so the pool works from `dist/` and from any bundle of `@ebm/core` without a
 * worker file to locate. Started workers are kept for later runs (and do not keep Node alive while idle);
 * {@link terminateChainWorkers} stops them.
 * @module
 */

/** Options of {@link runChainParallel}. */
export interface ParallelChainOptions {
  /** Energy kind (`energy.kernelHint.kind`). */
  readonly kind: string;
  /** The energy's `kernelHint.params`. */
  readonly params: Readonly<Record<string, unknown>>;
  /** `'langevin'`, `'mala'` or `'hmc'`. */
  readonly method: string;
  /**
   * `stepSize`; Langevin `noiseScale` (default 1); MALA/HMC `invMass` (number, default 1); HMC `nLeapfrogSteps`
   * (default 10).
   */
  readonly settings: Readonly<Record<string, number>>;
  /**
   * Initial states `[B, D]` (not disposed), or `{ normal: key, shape: [B, D] }`: x0 = `randomNormal(key, [B, D])`
   * (the same numbers), drawn by the workers, each its own rows.
   */
  readonly x0: tf.Tensor2D | ParallelNormalX0;
  readonly nSteps: number;
  /** Run key: step t (0-based) uses `foldIn(key, startStep + t)`, as the samplers' step loop does. */
  readonly key: RngKey;
  /** Step index of `x0` (the sampler's `state.step`), default 0; see core's `ChainKernelInputs.startStep`. */
  readonly startStep?: number;
  /** @deprecated the old name of {@link ParallelChainOptions.startStep} (read when `startStep` is absent). */
  readonly firstStep?: number;
  /**
   * Number of workers: an integer ≥ 1, `'auto'` (one per core: `os.availableParallelism()` /
   * `navigator.hardwareConcurrency`), or 0 to run in the calling thread. At most one per chain is used.
   * Default `'auto'`.
   */
  readonly workers?: 'auto' | number;
  /** Stops waiting with an `ABORTED` EbmError (the workers finish their block and are kept). */
  readonly signal?: AbortSignal;
}

/** Initial states x0 ~ N(0, I) drawn by the workers: the numbers of `randomNormal(normal, shape)`. */
export interface ParallelNormalX0 {
  readonly normal: RngKey;
  /** `[B, D]`. */
  readonly shape: readonly [number, number];
}

/**
 * Where the time of a {@link runChainParallel} call went (milliseconds; per-worker arrays in worker order, empty
 * in the calling thread). Worker times are taken with `performance.timeOrigin + performance.now()` on each thread.
 */
export interface ParallelChainTimings {
  /** The calling thread before posting the jobs: validation, reading x0 (or allocating it), copies. */
  readonly prepareMs: number;
  /** Starting workers that were not pooled yet (0 when the pool was warm). */
  readonly spawnMs: number;
  /** Posting the jobs (structured clone of the spec). */
  readonly postMs: number;
  /** Per worker: its job posted → received by the worker (message latency and wake-up). */
  readonly wakeMs: readonly number[];
  /** Per worker: working on its tiles (x0 draw included when the workers draw it). */
  readonly computeMs: readonly number[];
  /** Per worker: tiles done (shared memory: tiles of {@link TILE_ROWS} rows; else 1 block). */
  readonly tiles: readonly number[];
  /** Per worker: its work done → its reply handled by the calling thread. */
  readonly replyMs: readonly number[];
  /** The calling thread after the last reply: the result tensor (a copy out of shared memory). */
  readonly assembleMs: number;
  /** The whole call. */
  readonly totalMs: number;
  /** Whether the batch was in shared memory (tiles taken from a shared counter) rather than transferred blocks. */
  readonly shared: boolean;
}

/** What {@link runChainParallel} returns (the caller owns `x`). */
export interface ParallelChainResult {
  /** Final states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** MALA/HMC: accepted proposals per chain divided by `nSteps` (`[B]` host array); Langevin: `undefined`. */
  readonly acceptanceRate: Float64Array | undefined;
  /** Workers used (0: the calling thread). */
  readonly workers: number;
  /** Where the time went. */
  readonly timings: ParallelChainTimings;
}

interface WorkerLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  terminate(): unknown;
}

interface PoolWorker {
  readonly worker: WorkerLike;
  /** Keeps Node alive while a job runs (no-op in browsers). */
  ref(): void;
  unref(): void;
  pending: Map<number, { resolve: (m: WorkerReply) => void; reject: (e: unknown) => void }>;
}

interface WorkerReply {
  readonly id: number;
  readonly x?: Float32Array;
  readonly accepted?: Float64Array;
  readonly tiles?: number;
  /** [job received, work done], ms since the epoch. */
  readonly t?: readonly [number, number];
  readonly error?: { message: string; code?: string; argument?: string; fix?: string };
}

const POOL_SYMBOL = Symbol.for('@ebm/core/chain-pool/v1');
function pool(): PoolWorker[] {
  const g = globalThis as unknown as Record<symbol, PoolWorker[] | undefined>;
  let p = g[POOL_SYMBOL];
  if (p === undefined) {
    p = [];
    g[POOL_SYMBOL] = p;
  }
  return p;
}

let nextId = 1;

/** Milliseconds since the epoch, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

let sharedEnabled = true;

/**
 * Turns the shared-memory path off/on (tests of the transfer path, which browsers without cross-origin isolation
 * take); returns the previous setting. Internal.
 */
export function setSharedChainMemory(on: boolean): boolean {
  const was = sharedEnabled;
  sharedEnabled = on;
  return was;
}

/** Whether the batch can live in a `SharedArrayBuffer` that workers update (Node; cross-origin-isolated pages). */
function sharedMemoryAvailable(): boolean {
  if (!sharedEnabled || typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  return isNode() || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

interface NodeWorkerModule {
  Worker: new (
    src: string,
    o: { eval: true },
  ) => WorkerLike & {
    on(ev: 'message', fn: (m: WorkerReply) => void): void;
    on(ev: 'error', fn: (e: unknown) => void): void;
    ref(): void;
    unref(): void;
  };
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * A Node built-in module, loaded without a static import (core also runs in browsers, whose bundlers must not
 * resolve Node built-ins): `process.getBuiltinModule` (Node ≥ 20.16), else a variable `import()`.
 */
async function nodeBuiltin(name: string): Promise<unknown> {
  const p = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule === 'function') return p.getBuiltinModule(name);
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name);
}

async function spawn(): Promise<PoolWorker> {
  const pending = new Map<number, { resolve: (m: WorkerReply) => void; reject: (e: unknown) => void }>();
  const fail = (e: unknown) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  const onReply = (m: WorkerReply) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    p.resolve(m);
  };
  if (isNode()) {
    const { Worker } = (await nodeBuiltin('node:worker_threads')) as NodeWorkerModule;
    const w = new Worker(CHAIN_WORKER_SOURCE, { eval: true });
    w.on('message', onReply);
    w.on('error', (e) => {
      fail(e);
      dropWorker(pw);
    });
    w.unref();
    const pw: PoolWorker = { worker: w, ref: () => w.ref(), unref: () => w.unref(), pending };
    return pw;
  }
  const g = globalThis as unknown as {
    Worker?: new (
      url: string,
    ) => WorkerLike & {
      onmessage: ((e: { data: WorkerReply }) => void) | null;
      onerror: ((e: unknown) => void) | null;
    };
    Blob?: new (parts: string[], o: { type: string }) => unknown;
    URL?: { createObjectURL(b: unknown): string };
  };
  if (g.Worker === undefined || g.Blob === undefined || g.URL?.createObjectURL === undefined) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'No worker threads here: neither Node nor Web Workers.', {
      argument: 'workers',
      fix: 'pass workers: 0 to run the chains in the calling thread.',
    });
  }
  const url = g.URL.createObjectURL(new g.Blob([CHAIN_WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new g.Worker(url);
  w.onmessage = (e) => onReply(e.data);
  const pw: PoolWorker = { worker: w, ref: () => {}, unref: () => {}, pending };
  w.onerror = (e) => {
    fail(e);
    dropWorker(pw);
  };
  return pw;
}

function dropWorker(pw: PoolWorker): void {
  const p = pool();
  const i = p.indexOf(pw);
  if (i >= 0) p.splice(i, 1);
  void pw.worker.terminate();
}

async function workersFor(n: number): Promise<PoolWorker[]> {
  const p = pool();
  while (p.length < n) p.push(await spawn());
  return p.slice(0, n);
}

/** Stops every pooled chain worker (they restart on the next parallel run). */
export async function terminateChainWorkers(): Promise<void> {
  const p = pool().splice(0);
  await Promise.all(p.map((w) => w.worker.terminate()));
}

/** Number of pooled chain workers currently started. */
export function chainWorkerCount(): number {
  return pool().length;
}

/** Logical cores available to this process (Node: `os.availableParallelism()`; browsers: `hardwareConcurrency`). */
export async function availableCores(): Promise<number> {
  if (isNode()) {
    const os = (await nodeBuiltin('node:os')) as { availableParallelism?: () => number; cpus(): unknown[] };
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, n ?? 1);
}

async function resolveWorkers(workers: unknown, B: number): Promise<number> {
  if (workers === undefined || workers === 'auto') return Math.min(await availableCores(), B);
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 0) {
    throw new EbmError('INVALID_PARAM', "workers must be 'auto' or an integer >= 0.", {
      argument: 'workers',
      value: workers,
      fix: "pass workers: 'auto' (one per core), a count such as 2, or 0 for the calling thread.",
    });
  }
  return Math.min(workers, B);
}

function post(pw: PoolWorker, job: Record<string, unknown>, transfer: unknown[]): Promise<WorkerReply> {
  const id = nextId++;
  return new Promise<WorkerReply>((resolve, reject) => {
    pw.pending.set(id, { resolve, reject });
    pw.ref();
    try {
      pw.worker.postMessage({ ...job, id }, transfer);
    } catch (e) {
      pw.pending.delete(id);
      reject(e);
    }
  }).finally(() => {
    if (pw.pending.size === 0) pw.unref();
  });
}

const KNOWN_OPTIONS = new Set([
  'kind',
  'params',
  'method',
  'settings',
  'x0',
  'nSteps',
  'key',
  'startStep',
  'firstStep',
  'workers',
  'signal',
]);

/**
 * Runs `nSteps` of a fused chain (`method` on the energy `kind`/`params`) from `x0`, split across workers.
 * The result is bit-identical for every `workers` value (and equals the cpu `chain.<kind>` kernel and, with
 * `key` the sampler's run key and `startStep` its `state.step`, the sampler's step loop on the cpu backend).
 * Reads `x0` with `await x0.data()`: works from any backend.
 *
 * @example
 * ```ts
 * const energy = new DoubleWell();
 * const { x } = await runChainParallel({
 *   kind: energy.kernelHint.kind, params: energy.kernelHint.params, method: 'langevin',
 *   settings: { stepSize: 0.01, noiseScale: 1 }, x0, nSteps: 100, key: rngKey(0), workers: 'auto',
 * });
 * ```
 */
export async function runChainParallel(options: ParallelChainOptions): Promise<ParallelChainResult> {
  if (options === null || typeof options !== 'object') {
    throw new EbmError('INVALID_PARAM', 'runChainParallel needs an options object.', {
      argument: 'options',
      value: options,
      fix: "pass { kind, params, method, settings, x0, nSteps, key, workers: 'auto' }.",
    });
  }
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) {
      throw new EbmError('INVALID_PARAM', `Unknown option "${k}" of runChainParallel.`, {
        argument: k,
        fix: `use only: ${[...KNOWN_OPTIONS].join(', ')}.`,
      });
    }
  }
  const t0 = now();
  const { x0 } = options;
  const [B, D] = checkX0(x0);
  const spec: HostChainSpec = {
    kind: options.kind,
    params: await hostParamsAsync(options.params),
    method: options.method,
    settings: options.settings,
    nSteps: options.nSteps,
    key: options.key,
    ...(options.startStep === undefined && options.firstStep === undefined
      ? {}
      : { startStep: options.startStep ?? options.firstStep }),
  };
  parseChainSpec(spec, D); // validate here: clear errors from the calling thread
  const nWorkers = await resolveWorkers(options.workers, B);
  const signal = options.signal;
  const checkAbort = () => {
    if (signal?.aborted) {
      throw new EbmError('ABORTED', 'runChainParallel aborted.', {
        argument: 'signal',
        fix: 'do not abort the signal, or catch the ABORTED error.',
        cause: signal.reason,
      });
    }
  };
  checkAbort();
  const draw = x0 instanceof tf.Tensor ? undefined : ([x0.normal[0], x0.normal[1]] as const);
  const isMh = spec.method !== 'langevin';
  const shared = nWorkers > 0 && B > 0 && sharedMemoryAvailable();
  const wakeMs: number[] = [];
  const computeMs: number[] = [];
  const tiles: number[] = [];
  const replyMs: number[] = [];
  let spawnMs = 0;
  let postMs = 0;
  let prepareMs = 0;
  // The batch: in shared memory (workers update it in place), or a plain copy (x0's store is never modified).
  const out = shared ? new Float32Array(new SharedArrayBuffer(4 * B * D)) : new Float32Array(B * D);
  if (x0 instanceof tf.Tensor) out.set((await x0.data()) as Float32Array);
  else if (nWorkers === 0) normalRange(draw![0], draw![1], 0, B * D, out, 0);
  const acc = isMh
    ? shared
      ? new Float64Array(new SharedArrayBuffer(8 * Math.max(1, B)), 0, B)
      : new Float64Array(B)
    : undefined;
  let assembleStart: number;
  if (nWorkers === 0 || B === 0) {
    prepareMs = now() - t0;
    const a = runChainHost(spec, out, D, 0, B);
    if (acc !== undefined && a !== undefined) acc.set(a);
    assembleStart = now();
  } else {
    const tSpawn = now();
    const ws = await workersFor(nWorkers);
    spawnMs = now() - tSpawn;
    prepareMs = tSpawn - t0;
    const tPost = now();
    const jobs: Promise<void>[] = [];
    const next = shared ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const stop = () => {
      if (next !== undefined) Atomics.store(next, 0, 0x3fffffff); // no more tiles for anyone
    };
    const track = (w: number, posted: number, m: WorkerReply) => {
      const handled = now();
      if (m.error !== undefined) {
        stop();
        const code = (m.error.code ?? 'INVALID_PARAM') as 'INVALID_PARAM';
        throw new EbmError(code, m.error.message.replace(/^\[[A-Z_]+\] /, ''), {
          ...(m.error.argument === undefined ? {} : { argument: m.error.argument }),
          ...(m.error.fix === undefined ? {} : { fix: m.error.fix }),
        });
      }
      const [received, done] = m.t ?? [posted, handled];
      wakeMs[w] = received - posted;
      computeMs[w] = done - received;
      replyMs[w] = handled - done;
      tiles[w] = m.tiles ?? 1;
    };
    for (let w = 0; w < nWorkers; w++) {
      const posted = now();
      if (next !== undefined) {
        const job = { spec, x: out, D, B, next, acc, tileRows: TILE_ROWS, draw };
        jobs.push(post(ws[w]!, job, []).then((m) => track(w, posted, m)));
        continue;
      }
      // Blocks of a multiple of 4 rows (the SIMD tiles need r·D ≡ 0 mod 4 at their first row).
      const r0 = Math.min(B, 4 * Math.round((w * B) / nWorkers / 4));
      const r1 = w === nWorkers - 1 ? B : Math.min(B, 4 * Math.round(((w + 1) * B) / nWorkers / 4));
      if (r1 <= r0) {
        wakeMs[w] = computeMs[w] = replyMs[w] = tiles[w] = 0;
        continue;
      }
      const rows = draw === undefined ? out.slice(r0 * D, r1 * D) : new Float32Array((r1 - r0) * D);
      jobs.push(
        post(ws[w]!, { spec, x: rows, D, r0, r1, draw }, [rows.buffer]).then((m) => {
          track(w, posted, m);
          out.set(m.x!, r0 * D);
          if (acc !== undefined && m.accepted !== undefined) acc.set(m.accepted, r0);
        }),
      );
    }
    postMs = now() - tPost;
    let abortListener: (() => void) | undefined;
    const aborted =
      signal === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            abortListener = () => {
              try {
                checkAbort();
              } catch (e) {
                stop();
                reject(e);
              }
            };
            signal.addEventListener('abort', abortListener, { once: true });
          });
    try {
      await (aborted === undefined ? Promise.all(jobs) : Promise.race([Promise.all(jobs), aborted]));
    } finally {
      if (abortListener !== undefined) signal?.removeEventListener('abort', abortListener);
      void Promise.allSettled(jobs);
    }
    assembleStart = now();
  }
  if (acc !== undefined && spec.nSteps > 0) for (let i = 0; i < B; i++) acc[i] = acc[i]! / spec.nSteps;
  // Out of shared memory: the caller gets plain arrays (a SharedArrayBuffer cannot be transferred).
  const x = tf.tensor2d(shared ? out.slice() : out, [B, D], 'float32');
  const acceptanceRate = acc === undefined ? undefined : shared ? acc.slice() : acc;
  const end = now();
  const timings: ParallelChainTimings = {
    prepareMs,
    spawnMs,
    postMs,
    wakeMs,
    computeMs,
    tiles,
    replyMs,
    assembleMs: end - assembleStart,
    totalMs: end - t0,
    shared,
  };
  return { x, acceptanceRate, workers: nWorkers, timings };
}

/** Validates `x0` (a tensor or `{ normal, shape }`) and returns `[B, D]`. */
function checkX0(x0: unknown): [number, number] {
  if (x0 instanceof tf.Tensor) {
    if (x0.rank === 2 && x0.dtype === 'float32' && !x0.isDisposed) return [x0.shape[0]!, x0.shape[1]!];
  } else if (x0 !== null && typeof x0 === 'object' && 'normal' in x0) {
    const { normal, shape } = x0 as { normal: unknown; shape: unknown };
    if (!isKeyPair(normal)) {
      throw new EbmError('INVALID_PARAM', 'x0.normal must be an RngKey: two integers in [0, 2^32).', {
        argument: 'x0.normal',
        value: normal,
        fix: 'make keys with rngKey(seed), foldIn(key, n) or splitKey(key, n).',
      });
    }
    const dimOk = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
    if (!Array.isArray(shape) || shape.length !== 2 || !dimOk(shape[0], 0) || !dimOk(shape[1], 1)) {
      throw new EbmError('SHAPE_MISMATCH', 'x0.shape must be [B, D]: integers B >= 0, D >= 1.', {
        argument: 'x0.shape',
        value: shape,
        fix: 'pass the number of chains and the dimension, e.g. shape: [4096, 32].',
      });
    }
    assertAllocation('x0', shape[0] * shape[1], 'draw fewer chains per call.');
    return [shape[0], shape[1]];
  }
  throw new EbmError(
    'SHAPE_MISMATCH',
    'x0 must be a live float32 [B, D] tensor or { normal: key, shape: [B, D] }.',
    {
      argument: 'x0',
      value: x0 instanceof tf.Tensor ? { shape: x0.shape, dtype: x0.dtype } : typeof x0,
      fix: 'pass the chains as a 2-D float32 tensor, one row per chain, or { normal: key, shape } to draw them.',
    },
  );
}
