import * as tf from '@tensorflow/tfjs-core';
import { CHAIN_WORKER_SOURCE } from '../_generated/chain-worker-source.js';
import { EbmError } from '../errors.js';
import type { RngKey } from '../rng.js';
import { type HostChainSpec, parseChainSpec, runChainHost } from './host-chain.js';
import { hostParamsAsync } from './host-tensors.js';

/**
 * # Chains on every core
 *
 * Chains are independent, so {@link runChainParallel} splits the rows of `x0` into contiguous blocks, one per
 * worker (`worker_threads` under Node, Web Workers in browsers), and runs the fused host chain
 * (`host-chain.ts`) on each. Row r always draws elements r·D … r·D + D − 1 of each step's Philox stream, so
 * **the result is bit-identical for any number of workers**, and equal to the `chain.<kind>` kernel on the
 * cpu backend for the same key.
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
  /** Initial states `[B, D]` (not disposed). */
  readonly x0: tf.Tensor2D;
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

/** What {@link runChainParallel} returns (the caller owns `x`). */
export interface ParallelChainResult {
  /** Final states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** MALA/HMC: accepted proposals per chain divided by `nSteps` (`[B]` host array); Langevin: `undefined`. */
  readonly acceptanceRate: Float64Array | undefined;
  /** Workers used (0: the calling thread). */
  readonly workers: number;
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
  const { x0 } = options;
  if (!(x0 instanceof tf.Tensor) || x0.rank !== 2 || x0.dtype !== 'float32' || x0.isDisposed) {
    throw new EbmError('SHAPE_MISMATCH', 'x0 must be a live float32 [B, D] tensor.', {
      argument: 'x0',
      value: x0 instanceof tf.Tensor ? { shape: x0.shape, dtype: x0.dtype } : typeof x0,
      fix: 'pass the chains as a 2-D float32 tensor, one row per chain.',
    });
  }
  const [B, D] = x0.shape;
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
  const x = (await x0.data()) as Float32Array;
  const out = new Float32Array(x); // a copy: x0's backing store is never modified
  const isMh = spec.method !== 'langevin';
  const acc = isMh ? new Float64Array(B) : undefined;
  if (nWorkers === 0 || B === 0) {
    const a = runChainHost(spec, out, D, 0, B);
    if (acc !== undefined && a !== undefined) acc.set(a);
  } else {
    const ws = await workersFor(nWorkers);
    const per = Math.ceil(B / nWorkers);
    const jobs: Promise<void>[] = [];
    for (let w = 0; w < nWorkers; w++) {
      const r0 = w * per;
      const r1 = Math.min(B, r0 + per);
      if (r1 <= r0) continue;
      const rows = out.slice(r0 * D, r1 * D);
      jobs.push(
        post(ws[w]!, { spec, x: rows, D, r0, r1 }, [rows.buffer]).then((m) => {
          if (m.error !== undefined) {
            const code = (m.error.code ?? 'INVALID_PARAM') as 'INVALID_PARAM';
            throw new EbmError(code, m.error.message.replace(/^\[[A-Z_]+\] /, ''), {
              ...(m.error.argument === undefined ? {} : { argument: m.error.argument }),
              ...(m.error.fix === undefined ? {} : { fix: m.error.fix }),
            });
          }
          out.set(m.x!, r0 * D);
          if (acc !== undefined && m.accepted !== undefined) acc.set(m.accepted, r0);
        }),
      );
    }
    let abortListener: (() => void) | undefined;
    const aborted =
      signal === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            abortListener = () => {
              try {
                checkAbort();
              } catch (e) {
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
  }
  if (acc !== undefined && spec.nSteps > 0) for (let i = 0; i < B; i++) acc[i] = acc[i]! / spec.nSteps;
  return { x: tf.tensor2d(out, [B, D], 'float32'), acceptanceRate: acc, workers: nWorkers };
}
