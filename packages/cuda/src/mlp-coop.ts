import { EbmError } from '@ebm/core';
import type { Program } from './chain-programs.js';
import { flatDispatch } from './chain-programs.js';
import {
  chainQuads,
  langevinUpdate,
  loadStates,
  scatterStates,
  stepHeader,
  storeStates,
} from './mlp-chain-fragments.js';
import type { MlpLayout } from './mlp-energy.js';
import { NORMAL_WGSL, PHILOX_WGSL } from './wgsl.js';

/**
 * Whole-chain Euler–Maruyama Langevin for an MLP energy with a workgroup per `C` chains: its `T` threads split
 * each layer's units, so a weight read from memory serves `C` chains, and activations live in workgroup memory
 * instead of per-thread arrays. Per step: forward through the hidden layers (zⱼ and φ'(zⱼ) kept in shared
 * memory), the input gradient by the chain rule backwards (δ_{L−1} = w_out ⊙ φ'(z_{L−1}),
 * δⱼ₋₁ = (Wⱼ·δⱼ) ⊙ φ'(zⱼ₋₁), ∇ₓE = W₀·δ₀, one thread per element of ∇ₓE), then x ← x − h∇E + σ√(2h)ξ with ξ from
 * Philox in core's layout (thread q owns the four consecutive elements of block q of the workgroup's rows). Two
 * buffers alternate; 2L + 3 barriers per step. Inputs `X` (states), `K` (step keys, 2 words per step), `P` (flat
 * weights). The states' load, update and store are `mlp-chain-fragments.ts`' (shared with `mlp-tile.ts`). Internal
 * module.
 *
 * The shape `{ c, t, g }` (chains and threads per workgroup, chain groups) is a function of the batch
 * (`coopShape`): in a dense layer, work item w of `nOut · g` is unit `w mod nOut` for the `c / g` chains of group
 * `⌊w / nOut⌋`. Every sum runs in the same order in every shape (bias, then inputs 0, 1, …), so all shapes give
 * bit-identical states.
 * @module
 */

/** Threads per workgroup of the cooperative program at large batches (today's shape: `{ c: 16, t: 64 }`). */
export const COOP_THREADS = 64;

/** Shape of the cooperative program: `c` chains per workgroup, `t` threads, `g` chain groups (g divides c). */
export interface CoopShape {
  readonly c: number;
  readonly t: number;
  readonly g: number;
}

/** Chains per workgroup the program supports. */
export const COOP_CHAINS = [16, 8, 4, 2, 1] as const;
/** Threads per workgroup the program supports. */
export const COOP_THREAD_COUNTS = [64, 128, 256] as const;
/** Workgroups the default shape aims for: about 2 × the SM count of a large GPU (132 on an H100/H200). */
export const COOP_TARGET_GROUPS = 256;

/** Floats of workgroup memory the program needs for `c` chains per workgroup. */
export function coopSharedFloats(layout: MlpLayout, c: number): number {
  const { widths } = layout;
  const hidden = widths.slice(1, -1);
  const mw = Math.max(widths[0]!, ...hidden);
  return c * (2 * mw + hidden.reduce((a, b) => a + b, 0));
}

/**
 * Whether `c` chains per workgroup are allowed for dimension `d`: `c · d` must be a multiple of 4, so that every
 * workgroup's rows start on a Philox block (block q of the batch = flat elements 4q..4q+3, core's layout), and
 * the workgroup memory must fit `limitBytes`.
 */
export function coopChainsFit(layout: MlpLayout, d: number, c: number, limitBytes: number): boolean {
  return (c * d) % 4 === 0 && 4 * coopSharedFloats(layout, c) <= limitBytes;
}

/** Chain groups for `c` chains and `t` threads: the largest power of two ≤ c with g · (widest hidden layer) ≤ t. */
export function coopGroups(layout: MlpLayout, c: number, t: number): number {
  const wide = Math.max(...layout.widths.slice(1, -1));
  let g = 1;
  while (2 * g <= c && c % (2 * g) === 0 && 2 * g * wide <= t) g *= 2;
  return g;
}

/**
 * Chains per workgroup: the largest of 16, 8, 4 whose workgroup memory fits `limitBytes`, or `undefined` (then the
 * one-thread-per-chain program runs). A multiple of 4 keeps every workgroup's rows aligned to Philox blocks.
 * @deprecated use `coopShape`, which also fits the shape to the batch.
 */
export function coopChains(layout: MlpLayout, limitBytes: number): number | undefined {
  for (const c of [16, 8, 4]) if (4 * coopSharedFloats(layout, c) <= limitBytes) return c;
  return undefined;
}

/**
 * The default shape for `b` chains of dimension `d`: the largest allowed c ≤ 8 (8, 4, 2, 1) that still gives
 * ≥ COOP_TARGET_GROUPS workgroups (else the smallest allowed c), so small batches fill the GPU, with one thread
 * per unit of the widest hidden layer (rounded up to a power of two in 64..256). Measured on an H200
 * (2026-11-29, bare `chain.mlp` + read-back, 32→128→128→1 SiLU): 4096×32×100 8x128 14.7 ms, 16x128 15.6,
 * 16x64 20.8; 256×2×10 (2→128→128→1) 2x128 1.00 ms, 4x128 0.96, 16x64 1.63 — c = 16 is never the fastest since
 * the gradient phase went parallel. `undefined` when no c fits (then the one-thread-per-chain program runs).
 */
export function coopShape(
  layout: MlpLayout,
  b: number,
  d: number,
  limitBytes: number,
): CoopShape | undefined {
  const fits = COOP_CHAINS.filter((c) => coopChainsFit(layout, d, c, limitBytes));
  if (fits.length === 0) return undefined;
  const capped = fits.filter((c) => c <= 8);
  const pool = capped.length > 0 ? capped : fits;
  const c = pool.find((c) => Math.ceil(b / c) >= COOP_TARGET_GROUPS) ?? pool[pool.length - 1]!;
  const wide = Math.max(...layout.widths.slice(1, -1));
  let t = 64;
  while (t < 256 && t < wide) t *= 2;
  return { c, t, g: coopGroups(layout, c, t) };
}

/**
 * The cooperative MLP Langevin program for `b` chains of dimension `d` in shape `shape` (a number: `{ c, t: 64 }`).
 * With `perStepNoise` it reads the noise amplitude of step t from a fourth input `S` (a_t = σ_t√(2h), float32
 * `[nSteps]` of the whole call, indexed by stepOffset + t) instead of the uniform `amp`: tempered chains.
 */
export function mlpLangevinProgram(
  layout: MlpLayout,
  b: number,
  d: number,
  shape: number | CoopShape,
  perStepNoise = false,
): Program {
  const { widths, wOff, bOff, actCode, key, act } = layout;
  const { c, t: T, g: G } = typeof shape === 'number' ? { c: shape, t: COOP_THREADS, g: 1 } : shape;
  const cp = c / G; // chains per group
  const L = widths.length - 2; // hidden layers
  const hidden = widths.slice(1, -1);
  const mw = Math.max(d, ...hidden);
  const regs = chainQuads(c, T, d); // the chains' states in registers
  const dpOff: number[] = [];
  let acc = 0;
  for (const n of hidden) {
    dpOff.push(acc);
    acc += c * n;
  }
  const buf = (j: number) => (j % 2 === 0 ? 'ebmA' : 'ebmB');
  // Forward: dense j (j < L) reads buffer in(j) (x for j = 0) and writes buffer out(j).
  // x lives in ebmB; dense 0 writes ebmA, dense 1 writes ebmB, ...
  const inBuf = (j: number) => (j === 0 ? 'ebmB' : buf(j - 1));
  const forward: string[] = [];
  for (let j = 0; j < L; j++) {
    const nIn = widths[j]!;
    const nOut = widths[j + 1]!;
    const src = inBuf(j);
    const dst = buf(j);
    forward.push(`    for (var wi = tid; wi < ${nOut * G}; wi += ${T}) {
      let u = wi % ${nOut};
      let cb = (wi / ${nOut}) * ${cp};
      var a : array<f32, ${cp}>;
      let bias = P[${bOff[j]} + u];
      for (var cc = 0; cc < ${cp}; cc++) {
        a[cc] = bias;
      }
      for (var i = 0; i < ${nIn}; i++) {
        let w = P[${wOff[j]} + i * ${nOut} + u];
        for (var cc = 0; cc < ${cp}; cc++) {
          a[cc] += ${src}[(cb + cc) * ${mw} + i] * w;
        }
      }
      for (var cc = 0; cc < ${cp}; cc++) {
        ${dst}[(cb + cc) * ${mw} + u] = ebmAct${act[j]}(a[cc]);
        ebmDp[${dpOff[j]} + (cb + cc) * ${nOut} + u] = ebmActGrad${act[j]}(a[cc]);
      }
    }
    workgroupBarrier();`);
  }
  // Output layer: δ_{L−1} = w_out ⊙ φ'(z_{L−1}), written over h_{L−1} (a work item per chain and unit).
  const last = L - 1;
  const nLast = widths[L]!;
  const output = `    for (var wi = tid; wi < ${c * nLast}; wi += ${T}) {
      let u = wi % ${nLast};
      let cc = wi / ${nLast};
      ${buf(last)}[cc * ${mw} + u] = P[${wOff[L]} + u] * ebmDp[${dpOff[last]} + cc * ${nLast} + u];
    }
    workgroupBarrier();`;
  // Backward: δ_{j−1} = (W_j · δ_j) ⊙ φ'(z_{j−1}), δ_j in buf(j), written to buf(j − 1).
  const backward: string[] = [];
  for (let j = last; j >= 1; j--) {
    const nIn = widths[j]!; // units of z_{j−1}
    const nOut = widths[j + 1]!; // units of z_j
    backward.push(`    for (var wi = tid; wi < ${nIn * G}; wi += ${T}) {
      let i = wi % ${nIn};
      let cb = (wi / ${nIn}) * ${cp};
      var s : array<f32, ${cp}>;
      for (var cc = 0; cc < ${cp}; cc++) {
        s[cc] = 0.0;
      }
      for (var u = 0; u < ${nOut}; u++) {
        let w = P[${wOff[j]} + i * ${nOut} + u];
        for (var cc = 0; cc < ${cp}; cc++) {
          s[cc] += w * ${buf(j)}[(cb + cc) * ${mw} + u];
        }
      }
      for (var cc = 0; cc < ${cp}; cc++) {
        ${buf(j - 1)}[(cb + cc) * ${mw} + i] = s[cc] * ebmDp[${dpOff[j - 1]} + (cb + cc) * ${nIn} + i];
      }
    }
    workgroupBarrier();`);
  }
  const n1 = widths[1]!;
  return {
    outputShape: [b, d],
    shaderKey: `ebm_mlp_coop_langevin_${key}_D${d}_C${c}${typeof shape === 'number' || (T === COOP_THREADS && G === 1) ? '' : `_T${T}_G${G}`}${perStepNoise ? '_ps' : ''}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: flatDispatch(Math.ceil(b / c)),
    variableNames: perStepNoise ? ['X', 'K', 'P', 'S'] : ['X', 'K', 'P'],
    workgroupSize: [T, 1, 1],
    size: true,
    uniforms: 'nChains : i32, stepOffset : i32, nSteps : i32, h : f32, amp : f32,',
    getUserCode: () => `
${PHILOX_WGSL}
${NORMAL_WGSL}
${actCode}
var<workgroup> ebmA : array<f32, ${c * mw}>;
var<workgroup> ebmB : array<f32, ${c * mw}>;
var<workgroup> ebmDp : array<f32, ${Math.max(1, acc)}>;
fn main(index : i32) {
  let tid = i32(localIndex);
  let c0 = (index / ${T}) * ${c};
${loadStates(regs)}
${stepHeader(perStepNoise)}
${scatterStates(regs, 'ebmB', mw)}
    workgroupBarrier();
${forward.join('\n')}
${output}
${backward.join('\n')}
    for (var e = tid; e < ${c * d}; e += ${T}) {
      let cc = e / ${d};
      let k = e % ${d};
      var gs = 0.0;
      for (var u = 0; u < ${n1}; u++) {
        gs += P[${wOff[0]} + k * ${n1} + u] * ebmA[cc * ${mw} + u];
      }
      ebmB[e] = gs;
    }
    workgroupBarrier();
${langevinUpdate(regs, { grad: 'ebmB[e]', guard: true })}
  }
${storeStates(regs)}
}
`,
  };
}

/**
 * The shape `spec` (`'<c>x<t>'`, e.g. `'4x128'`, from `settings.mlpCoopShape`) for dimension `d`, with its chain
 * groups from `coopGroups`; a clear `EbmError` when it is malformed, unsupported or does not fit.
 */
export function forcedCoopShape(layout: MlpLayout, d: number, spec: unknown, limitBytes: number): CoopShape {
  const m = typeof spec === 'string' ? /^(\d+)x(\d+)$/.exec(spec) : null;
  const c = m === null ? Number.NaN : Number(m[1]);
  const t = m === null ? Number.NaN : Number(m[2]);
  const ok =
    (COOP_CHAINS as readonly number[]).includes(c) &&
    (COOP_THREAD_COUNTS as readonly number[]).includes(t) &&
    coopChainsFit(layout, d, c, limitBytes);
  if (!ok) {
    throw new EbmError(
      'INVALID_PARAM',
      `settings.mlpCoopShape must be '<c>x<t>' with c in ${COOP_CHAINS.join(', ')} (c · D a multiple of 4, workgroup memory within the adapter's limit) and t in ${COOP_THREAD_COUNTS.join(', ')}.`,
      {
        argument: 'settings.mlpCoopShape',
        value: spec,
        fix: `pass e.g. '16x64' (or leave it out: the shape is fitted to the batch); D = ${d}.`,
      },
    );
  }
  return { c, t, g: coopGroups(layout, c, t) };
}
