import {
  deserializeState,
  EbmError,
  type SamplerState,
  type SamplingKernel,
  type SerializedState,
  sampleChain,
  serializeState,
  stateTensors,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { withChainOffset, x0Rows } from './chain-offset.js';
import { decodeFloat32, decodeFloat64, encodeFloats } from './encode.js';
import { buildChainComponents, type Registry } from './registry.js';
import type { ChainBatchJob } from './specs.js';
import { type ChainSummaries, summarizeDraws } from './summaries.js';
import { assertInt, assertObject, invalidJob } from './validate.js';

/**
 * # Running one chain batch
 *
 * {@link runChainBatch} runs chains `[chainStart, chainEnd)` of a run with core's `sampleChain`, in segments
 * of `checkpointEvery` steps (burn-in first, then sampling segments that are multiples of `thin`, so the kept
 * steps are those of one uninterrupted run), saving a {@link ChainCheckpoint} after each segment and resuming
 * from one when given. Step keys are `foldIn(runKey, step)` with the absolute step, x0 and every draw come from
 * the rows of the full run (`chain-offset.ts`), so the batch's draws are exactly rows `[chainStart, chainEnd)`
 * of `sampleChain(kernel, { nSamples: n, dim, seed, burnIn, nSteps, thin })`, resumed or not.
 * No Redis here: the worker and a single-process reference both call this.
 * @module
 */

/** A state field in a checkpoint: a tensor as float64 base64 (exact for float32 and int32, NaN-safe), or a plain value. */
export type CheckpointField =
  | {
      readonly tensor: true;
      readonly shape: number[];
      readonly dtype: 'float32' | 'int32' | 'bool';
      readonly data: string;
    }
  | number
  | string
  | boolean
  | null;

/** A resumable snapshot of a chain batch (plain JSON). */
export interface ChainCheckpoint {
  readonly version: 1;
  /** Steps done (absolute step of the state). */
  readonly step: number;
  /** The sampler state (`serializeState`, tensors base64-encoded). */
  readonly state: Readonly<Record<string, CheckpointField>>;
  /** Kept draws so far. */
  readonly kept: number;
  /** Kept draws so far, time-major `[kept, chains, dim]` float32, base64. */
  readonly draws: string;
}

/** The outcome of a chain batch. */
export interface ChainBatchResult {
  readonly chainStart: number;
  readonly chainEnd: number;
  readonly nKept: number;
  readonly dim: number;
  /** Chain-major kept draws `[chains, nKept, dim]` (`samples` output). */
  readonly draws?: Float32Array;
  /** Per-chain summaries (always computed). */
  readonly summaries: ChainSummaries;
  /** The step this run resumed from (0 when it started fresh). */
  readonly resumedFrom: number;
}

/**
 * What {@link runChainBatch} hands to `onCheckpoint`: the state and only the draws kept since the previous
 * checkpoint (append them; {@link applyCheckpointDelta} rebuilds the full {@link ChainCheckpoint}).
 */
export interface ChainCheckpointDelta {
  readonly version: 1;
  readonly step: number;
  readonly state: Readonly<Record<string, CheckpointField>>;
  /** Kept draws in total. */
  readonly kept: number;
  /** Kept draws in this segment. */
  readonly segmentKept: number;
  /** This segment's draws, time-major `[segmentKept, chains, dim]` float32, base64. */
  readonly segmentDraws: string;
}

/** The full checkpoint after `delta` (draws appended to those of `previous`). */
export function applyCheckpointDelta(
  previous: ChainCheckpoint | undefined,
  delta: ChainCheckpointDelta,
): ChainCheckpoint {
  const before = previous === undefined ? '' : previous.draws;
  const a = Buffer.from(before, 'base64');
  const b = Buffer.from(delta.segmentDraws, 'base64');
  return {
    version: 1,
    step: delta.step,
    state: delta.state,
    kept: delta.kept,
    draws: Buffer.concat([a, b]).toString('base64'),
  };
}

/** Hooks of {@link runChainBatch}. */
export interface ChainBatchHooks {
  readonly resumeFrom?: ChainCheckpoint;
  readonly onCheckpoint?: (checkpoint: ChainCheckpointDelta) => Promise<void>;
  readonly onProgress?: (stepsDone: number, totalSteps: number) => void;
  readonly signal?: AbortSignal;
}

/** The kernel without its whole-chain fast path (which knows no chain offset); methods bound. */
function stepKernel(k: SamplingKernel): SamplingKernel {
  return {
    name: k.name ?? 'kernel',
    dim: k.dim,
    init: (x0, step) => k.init(x0, step),
    step: (s, key) => k.step(s, key),
    ...(typeof k.stepAsync === 'function' ? { stepAsync: (s, key) => k.stepAsync!(s, key) } : {}),
    ...(typeof k.disposeState === 'function' ? { disposeState: (s) => k.disposeState!(s) } : {}),
  };
}

function disposeState(k: SamplingKernel, s: SamplerState): void {
  if (k.disposeState) k.disposeState(s);
  else for (const t of stateTensors(s)) if (!t.isDisposed) t.dispose();
}

/** Validates a checkpoint read from Redis (untrusted) against its job. */
export function parseChainCheckpoint(data: unknown, job: ChainBatchJob): ChainCheckpoint {
  const o = assertObject(
    'checkpoint',
    data,
    ['version', 'step', 'state', 'kept', 'draws'],
    ['version', 'step', 'state', 'kept', 'draws'],
  );
  if (o.version !== 1) throw invalidJob('checkpoint.version', 'must be 1.', o.version);
  const total = job.burnIn + job.nSteps;
  const step = assertInt('checkpoint.step', o.step, 1, total);
  const kept = assertInt('checkpoint.kept', o.kept, 0, Math.floor(job.nSteps / job.thin));
  const expectKept = step <= job.burnIn ? 0 : Math.floor((step - job.burnIn) / job.thin);
  if (kept !== expectKept)
    throw invalidJob('checkpoint.kept', `must be ${expectKept} at step ${step}.`, kept);
  const b = job.chainEnd - job.chainStart;
  decodeFloat32('checkpoint.draws', o.draws, kept * b * job.dim);
  if (o.state === null || typeof o.state !== 'object')
    throw invalidJob('checkpoint.state', 'must be an object.');
  const state = o.state as Record<string, CheckpointField>;
  decodeState(state); // validates every field
  return { version: 1, step, kept, draws: o.draws as string, state };
}

/** Tensors of a serialised state as float64 base64 (JSON cannot hold NaN or ±∞). */
function encodeState(s: SerializedState): Record<string, CheckpointField> {
  const out: Record<string, CheckpointField> = {};
  for (const [k, v] of Object.entries(s)) {
    out[k] =
      v !== null && typeof v === 'object'
        ? {
            tensor: true,
            shape: v.shape,
            dtype: v.dtype as 'float32' | 'int32' | 'bool',
            data: encodeFloats(Float64Array.from(v.data)),
          }
        : v;
  }
  return out;
}

/** The inverse of {@link encodeState}, validating sizes (core's `deserializeState` checks the rest). */
function decodeState(s: Readonly<Record<string, CheckpointField>>): SerializedState {
  const out: Record<string, SerializedState[string]> = {};
  for (const [k, v] of Object.entries(s)) {
    let value: SerializedState[string] = v as number | string | boolean | null;
    if (v !== null && typeof v === 'object') {
      const f = assertObject(
        `checkpoint.state.${k}`,
        v,
        ['tensor', 'shape', 'dtype', 'data'],
        ['tensor', 'shape', 'dtype', 'data'],
      );
      const shape = f.shape;
      if (
        f.tensor !== true ||
        !Array.isArray(shape) ||
        shape.length > 8 ||
        !shape.every((d) => Number.isInteger(d) && d >= 0)
      ) {
        throw invalidJob(`checkpoint.state.${k}`, 'is not a tensor record.');
      }
      const n = (shape as number[]).reduce((a, d) => a * d, 1);
      const data = Array.from(decodeFloat64(`checkpoint.state.${k}.data`, f.data, n));
      value = { tensor: true, shape: shape as number[], dtype: f.dtype as tf.DataType, data };
    }
    // own properties only: a "__proto__" key cannot replace the prototype
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Runs one chain batch (see the module docs). The caller has set the tfjs backend. */
export async function runChainBatch(
  registry: Registry,
  job: ChainBatchJob,
  hooks: ChainBatchHooks = {},
): Promise<ChainBatchResult> {
  const { chainStart, chainEnd, dim, seed, burnIn, nSteps, thin } = job;
  const b = chainEnd - chainStart;
  const total = burnIn + nSteps;
  const nKept = Math.floor(nSteps / thin);
  const every = Math.max(thin, Math.ceil(job.checkpointEvery / thin) * thin);
  const { energy, sampler } = buildChainComponents(registry, job);
  const kernel = stepKernel(sampler);
  try {
    return await withChainOffset(chainStart, b, async () => {
      const blocks: Float32Array[] = [];
      let kept = 0;
      let checkpointed = 0; // blocks already in a checkpoint
      let keptAtCheckpoint = 0;
      let step = 0;
      let state: SamplerState;
      const resume = hooks.resumeFrom;
      if (resume !== undefined) {
        state = deserializeState(decodeState(resume.state)) as SamplerState;
        const x = state.x as unknown;
        if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[0] !== b || x.shape[1] !== dim) {
          for (const t of stateTensors(state)) t.dispose();
          throw invalidJob('checkpoint.state.x', `must be a [${b}, ${dim}] tensor.`);
        }
        if (state.step !== resume.step) {
          disposeState(kernel, state);
          throw invalidJob(
            'checkpoint.state.step',
            `must equal checkpoint.step (${resume.step}).`,
            state.step,
          );
        }
        step = resume.step;
        kept = resume.kept;
        if (kept > 0) blocks.push(decodeFloat32('checkpoint.draws', resume.draws, kept * b * dim));
        checkpointed = blocks.length;
        keptAtCheckpoint = kept;
      } else {
        const x0 = x0Rows(seed, chainStart, chainEnd, dim);
        try {
          state = kernel.init(x0, 0);
        } finally {
          x0.dispose();
        }
      }
      try {
        while (step < total) {
          const inBurn = step < burnIn;
          const n = inBurn ? Math.min(every, burnIn - step) : Math.min(every, total - step);
          const base = step;
          const r = await sampleChain(kernel, {
            resumeFrom: state,
            seed,
            nSteps: n,
            keepState: true,
            progressEvery: Math.max(1, Math.floor(n / 10)),
            onProgress: (e) => hooks.onProgress?.(base + e.step, total),
            ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
            ...(inBurn ? {} : { thin, trace: (s: SamplerState) => ({ x: s.x }) }),
          });
          r.samples.dispose();
          disposeState(kernel, state);
          state = r.finalState!;
          const xs = r.traces?.x;
          if (xs !== undefined) {
            blocks.push((await xs.data()) as Float32Array);
            kept += xs.shape[0]!;
            xs.dispose();
          }
          step += n;
          if (state.step !== step) {
            throw new EbmError(
              'STATE_ERROR',
              `The sampler state is at step ${state.step}, expected ${step}.`,
              {
                argument: 'state.step',
                value: state.step,
                fix: 'samplers must count steps in state.step (core loop contract).',
              },
            );
          }
          if (hooks.onCheckpoint !== undefined && step < total) {
            // Only the draws kept since the last checkpoint travel: checkpoints cost O(run), not O(run²).
            const fresh = blocks.slice(checkpointed);
            checkpointed = blocks.length;
            const segmentKept = kept - keptAtCheckpoint;
            keptAtCheckpoint = kept;
            await hooks.onCheckpoint({
              version: 1,
              step,
              state: encodeState(await serializeState(state)),
              kept,
              segmentKept,
              segmentDraws: encodeFloats(concat(fresh, segmentKept * b * dim)),
            });
          }
        }
      } finally {
        disposeState(kernel, state);
      }
      if (kept !== nKept) {
        throw new EbmError('STATE_ERROR', `Kept ${kept} draws, expected ${nKept}.`, {
          argument: 'thin',
          value: kept,
          fix: 'report this as a bug.',
        });
      }
      const timeMajor = concat(blocks, nKept * b * dim);
      const draws = new Float32Array(b * nKept * dim);
      for (let t = 0; t < nKept; t++)
        for (let c = 0; c < b; c++)
          for (let j = 0; j < dim; j++) draws[(c * nKept + t) * dim + j] = timeMajor[(t * b + c) * dim + j]!;
      const summaries = summarizeDraws(draws, b, nKept, dim, job.maxLag);
      return {
        chainStart,
        chainEnd,
        nKept,
        dim,
        summaries,
        resumedFrom: resume?.step ?? 0,
        ...(job.output === 'samples' ? { draws } : {}),
      };
    });
  } finally {
    (energy as { dispose?: () => void }).dispose?.();
  }
}

function concat(blocks: readonly Float32Array[], n: number): Float32Array {
  if (blocks.length === 1 && blocks[0]!.length === n) return blocks[0]!;
  const out = new Float32Array(n);
  let o = 0;
  for (const a of blocks) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
