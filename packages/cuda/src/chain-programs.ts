import { EbmError } from '@ebm/core';
import type { WgslEnergy } from './energy-kinds.js';
import { NORMAL_SELECT_WGSL, NORMAL_WGSL, PHILOX_WGSL, UNIFORM_WGSL } from './wgsl.js';

/**
 * WGSL programs of the whole-chain kernels (tfjs-webgpu `WebGPUProgram` objects, run through the backend's own
 * program runner). Internal module.
 *
 * - {@link stepKeysProgram}: the per-step keys of a run, computed on the GPU (no host loop, no upload).
 * - {@link separableLangevinProgram}: Euler–Maruyama Langevin for a separable energy, one thread per 4
 *   coordinates (the widest parallelism; the noise of thread b is exactly one Philox block); it computes its
 *   own step keys in workgroup memory, so a whole chain of ≤ 1000 steps is one dispatch.
 * - {@link rowChainProgram}: Langevin, MALA or HMC for any energy with a WGSL `ebmEnergyGrad`, one thread per
 *   chain, with optional in-kernel trace: per kept step, per workgroup mean / M2 of x, summed energy and
 *   acceptance, and the thinned positions.
 * @module
 */

/** The subset of `@tensorflow/tfjs-backend-webgpu`'s `WebGPUProgram` these kernels use. */
export interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode: () => string;
}

/** Philox tags of `@ebm/core`'s `foldIn` and `splitKey` (counter word 2). */
const TAG_FOLD = 0x27d4eb2f;
const TAG_SPLIT = 0x5bd1e995;

/** Largest workgroup count per dispatch dimension WebGPU guarantees. */
const MAX_GROUPS = 65535;

/** A dispatch of `groups` workgroups, folded into 2-D when over the per-dimension limit. */
export function flatDispatch(groups: number): [number, number, number] {
  const n = Math.max(1, groups);
  if (n <= MAX_GROUPS) return [n, 1, 1];
  const y = Math.ceil(n / MAX_GROUPS);
  return [Math.ceil(n / y), y, 1];
}

/**
 * Step keys: word pair t of the output is `foldIn(key, start + t)`; with `split`, each step gives four words,
 * `splitKey(foldIn(key, start + t), 2)` (the MH samplers' [proposal, accept] keys). `start` is a 64-bit step
 * index as two words.
 */
export function stepKeysProgram(nSteps: number, split: boolean): Program {
  const w = split ? 4 : 2;
  return {
    outputShape: [nSteps * w],
    shaderKey: `ebm_step_keys_${w}`,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(Math.ceil(nSteps / 64)),
    variableNames: [],
    workgroupSize: [64, 1, 1],
    size: true,
    uniforms: 'k0 : u32, k1 : u32, startLo : u32, startHi : u32, nSteps : i32,',
    getUserCode: () => `
${PHILOX_WGSL}
fn main(index : i32) {
  if (index < uniforms.nSteps) {
    let lo = uniforms.startLo + u32(index);
    let hi = uniforms.startHi + select(0u, 1u, lo < uniforms.startLo);
    let k = ebmPhilox(vec4<u32>(lo, hi, ${TAG_FOLD}u, 0u), vec2<u32>(uniforms.k0, uniforms.k1));
    ${
      split
        ? `let a = ebmPhilox(vec4<u32>(0u, 0u, ${TAG_SPLIT}u, 0u), k.xy);
    let b = ebmPhilox(vec4<u32>(1u, 0u, ${TAG_SPLIT}u, 0u), k.xy);
    result[4 * index] = bitcast<i32>(a.x);
    result[4 * index + 1] = bitcast<i32>(a.y);
    result[4 * index + 2] = bitcast<i32>(b.x);
    result[4 * index + 3] = bitcast<i32>(b.y);`
        : `result[2 * index] = bitcast<i32>(k.x);
    result[2 * index + 1] = bitcast<i32>(k.y);`
    }
  }
}
`,
  };
}

/** Threads per workgroup of the separable Langevin program's variants. */
export const SEPARABLE_WORKGROUPS = [32, 64, 128, 256] as const;

/** Steps per unrolled group of the separable Langevin program's variants. */
export const SEPARABLE_UNROLLS = [1, 2, 4] as const;

/** Key slots the separable program is built with (chain-kernels' MAX_STEPS_PER_DISPATCH). */
const SEP_KEY_SLOTS = 1000;

/** WebGPU's guaranteed workgroup memory (maxComputeWorkgroupStorageSize's default). */
const WG_MEMORY = 16384;

/**
 * A code variant of {@link separableLangevinProgram}: the same numbers (same Philox words, same normal
 * conversion, same update order per element — bit-identical output), a different instruction schedule. Internal
 * setting for benchmarks (`chainsweep` in bench/sweep-sections.mjs); see {@link setSeparableChainVariant}.
 */
export interface SeparableChainVariant {
  /**
   * U: the Philox blocks of U steps are computed together, interleaved round by round (they depend on the
   * step keys only, not on x: independent work for the scheduler), then the U updates in order; the last steps
   * that do not fill a group one at a time.
   */
  readonly unroll: (typeof SEPARABLE_UNROLLS)[number];
  /** Threads per workgroup (the key prologue's Philox calls are shared by the workgroup). */
  readonly workgroup: (typeof SEPARABLE_WORKGROUPS)[number];
  /**
   * Hoisted Philox rounds. With counter (i, 0, 0, 0), round 1 of every step depends on i only (mulhilo(M0, i),
   * computed once per thread; mulhilo(M1, 0) = 0), and round 2's first product on the step key only
   * (mulhilo(M0, k_t.x)), computed once per step in the key prologue and kept in workgroup memory (16 bytes per
   * step; 17 of the 20 products per step left).
   */
  readonly hoist: boolean;
  /** Normals through `ebmBitsToNormalSelect` (branch-free, one division) instead of `ebmBitsToNormal`. */
  readonly select: boolean;
}

/** Today's program: one step at a time, 64 threads, plain Philox, branching normals, a thread per 4 elements. */
export const DEFAULT_SEPARABLE_VARIANT: SeparableChainVariant = {
  unroll: 1,
  workgroup: 64,
  hoist: false,
  select: false,
};

/**
 * The variant used for few threads (≤ {@link SMALL_SEPARABLE_THREADS}): two steps' Philox blocks interleaved,
 * 128 threads, round 1–2 key words hoisted, branch-free normals. H200, DoubleWell 4096×32×1000 (32768 threads,
 * ≈ 2 warps per scheduler: latency-bound): kernel 0.52 ms vs 0.79 ms for {@link DEFAULT_SEPARABLE_VARIANT}.
 * With many threads the GPU is throughput-bound and the branch-free normals' extra work costs more than the
 * divergence they remove (1048576×32×50: 36 ms with `select` vs 15.5 ms), so large states keep the default.
 */
export const SMALL_SEPARABLE_VARIANT: SeparableChainVariant = {
  unroll: 2,
  workgroup: 128,
  hoist: true,
  select: true,
};

/** Threads (one per 4 elements) up to which the automatic choice takes {@link SMALL_SEPARABLE_VARIANT}. */
export const SMALL_SEPARABLE_THREADS = 1 << 17;

/** The variant forced by {@link setSeparableChainVariant}; `undefined`: chosen by the state's size. */
let separableVariant: SeparableChainVariant | undefined;

/** The automatic variant for a state of `n` elements. */
export function autoSeparableVariant(n: number): SeparableChainVariant {
  return Math.ceil(n / 4) <= SMALL_SEPARABLE_THREADS ? SMALL_SEPARABLE_VARIANT : DEFAULT_SEPARABLE_VARIANT;
}

/** `'u<U>/w<W>[/hoist][/select]'`, e.g. `'u2/w128/hoist/select'`; the default is `'u1/w64'`. */
export function separableVariantLabel(v: SeparableChainVariant): string {
  return `u${v.unroll}/w${v.workgroup}${v.hoist ? '/hoist' : ''}${v.select ? '/select' : ''}`;
}

/** Workgroup memory of a variant's program with `keySlots` key slots, in bytes. */
export function separableWorkgroupBytes(v: SeparableChainVariant, keySlots: number): number {
  return (v.hoist ? 16 : 8) * keySlots;
}

function badVariant(value: unknown, removed = false): never {
  throw new EbmError(
    'INVALID_PARAM',
    `${removed ? 'The chunked (one thread per element) separable chain variants were removed: slower than u2/w128/hoist/select in every form measured. ' : ''}A separable chain variant is 'default' or 'u<U>/w<W>[/hoist][/select]' (U in ${SEPARABLE_UNROLLS.join(', ')}, W in ${SEPARABLE_WORKGROUPS.join(', ')}), or an object with those fields.`,
    {
      argument: 'variant',
      value,
      fix: removed
        ? "drop the chunk ('/c<S>' or chunk: S), e.g. 'u2/w128/hoist/select'."
        : "pass e.g. 'u2/w128/hoist/select', { unroll: 2 }, or undefined for the default.",
    },
  );
}

/** Parses a variant from its label (`'default'`, `'u2/w128/hoist'`, …) or a partial object over the default. */
export function parseSeparableVariant(spec: unknown): SeparableChainVariant {
  if (spec === undefined || spec === 'default') return DEFAULT_SEPARABLE_VARIANT;
  let o: Record<string, unknown>;
  if (typeof spec === 'string') {
    o = {};
    const field = { u: 'unroll', w: 'workgroup' } as const;
    for (const tok of spec.split('/')) {
      const m = /^([uwc])(\d+)$/.exec(tok);
      // The removed chunked form: 'c0' (one thread per 4 elements, what remains) is accepted, 'c<S>' is not.
      if (m?.[1] === 'c') {
        if (m[2] !== '0') badVariant(spec, true);
      } else if (m) o[field[m[1] as 'u' | 'w']] = Number(m[2]);
      else if (tok === 'hoist' || tok === 'select') o[tok] = true;
      else badVariant(spec);
    }
  } else if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    const { chunk, ...rest } = spec as Record<string, unknown>;
    if (chunk !== undefined && chunk !== 0) badVariant(spec, true);
    o = rest;
    for (const k of Object.keys(o)) if (!(k in DEFAULT_SEPARABLE_VARIANT)) badVariant(spec);
  } else {
    badVariant(spec);
  }
  const v = { ...DEFAULT_SEPARABLE_VARIANT, ...o } as SeparableChainVariant;
  if (
    !(SEPARABLE_UNROLLS as readonly unknown[]).includes(v.unroll) ||
    !(SEPARABLE_WORKGROUPS as readonly unknown[]).includes(v.workgroup) ||
    typeof v.hoist !== 'boolean' ||
    typeof v.select !== 'boolean' ||
    separableWorkgroupBytes(v, SEP_KEY_SLOTS) > WG_MEMORY
  ) {
    badVariant(spec);
  }
  return v;
}

/**
 * Sets the code variant every later separable whole-chain dispatch uses (`chain.<kind>` for doubleWell,
 * harmonic, rastrigin Langevin, and so `sample()` through it); `undefined` restores the default. Returns the
 * previous variant. Internal (benchmarks, tests): every variant gives the same numbers.
 */
export function setSeparableChainVariant(spec: unknown): SeparableChainVariant | undefined {
  const next = spec === undefined ? undefined : parseSeparableVariant(spec);
  const prev = separableVariant;
  separableVariant = next;
  return prev;
}

/**
 * The variant separable whole-chain dispatches of `n` elements use now (the forced one, else
 * {@link autoSeparableVariant}); without `n`, the forced one or {@link DEFAULT_SEPARABLE_VARIANT}.
 */
export function separableChainVariant(n?: number): SeparableChainVariant {
  return separableVariant ?? (n === undefined ? DEFAULT_SEPARABLE_VARIANT : autoSeparableVariant(n));
}

/** Philox's Weyl key increments (wgsl.ts's `ebmPhilox`). */
const PHILOX_W = 'vec2<u32>(0x9e3779b9u, 0xbb67ae85u)';

/** One Philox round on state `c`, key `k` (then k += W), as in `ebmPhilox`. */
function philoxRound(c: string, k: string): string {
  return `{
      let m0 = ebmMulHiLo(0xd2511f53u, ${c}.x);
      let m1 = ebmMulHiLo(0xcd9e8d57u, ${c}.z);
      ${c} = vec4<u32>(m1.x ^ ${c}.y ^ ${k}.x, m1.y, m0.x ^ ${c}.w ^ ${k}.y, m0.y);
      ${k} = ${k} + ${PHILOX_W};
    }`;
}

/**
 * How the Philox blocks start: `plain` (counter `counter`, keys from `ebmKeys`, 10 rounds); `table` (`ebmKeys[s]`
 * holds (k.y, k.x + W.x, mulhi(M0, k.x) ^ (k.y + W.y), mullo(M0, k.x)) and `a` = mulhilo(M0, i): the state after
 * round 2 is (mulhi(M1, a.hi ^ k.y) ^ (k.x + W.x), mullo(M1, ·), S.z ^ a.lo, S.w), key k + 2W, 8 rounds left).
 */
type PhiloxStart = 'plain' | 'table';

/**
 * WGSL computing `w0 … w{u−1}`: the Philox blocks of counter `counter` (first word `i`) under the step keys
 * `ebmKeys[key(j)]`, the u states advanced together round by round.
 */
function philoxSteps(u: number, start: PhiloxStart, key: (j: number) => string): string {
  const ids = Array.from({ length: u }, (_, j) => j);
  if (u === 1 && start === 'plain') return `    let w0 = ebmPhilox(counter, ebmKeys[${key(0)}]);`;
  const lines: string[] = [];
  for (const j of ids) {
    if (start === 'table') {
      lines.push(`    let s${j} = ebmKeys[${key(j)}];
    let p${j} = ebmMulHiLo(0xcd9e8d57u, a.x ^ s${j}.x);
    var c${j} = vec4<u32>(p${j}.x ^ s${j}.y, p${j}.y, s${j}.z ^ a.y, s${j}.w);
    var k${j} = vec2<u32>(s${j}.y, s${j}.x + 0xbb67ae85u) + ${PHILOX_W};`);
    } else {
      lines.push(`    var c${j} = counter;
    var k${j} = ebmKeys[${key(j)}];`);
    }
  }
  const first = start === 'table' ? 2 : 0;
  lines.push(`    for (var round = ${first}; round < 10; round++) {
    ${ids.map((j) => philoxRound(`c${j}`, `k${j}`)).join('\n    ')}
    }`);
  for (const j of ids) lines.push(`    let w${j} = c${j};`);
  return lines.join('\n');
}

/** WGSL applying the Langevin updates of blocks `w0 … w{u−1}` to the thread's 4 elements, in step order. */
function updates(u: number, normal: string): string {
  return Array.from(
    { length: u },
    (_, j) => `    for (var l = 0; l < 4; l++) {
      let xl = x[l];
      x[l] = xl - ebmGrad(xl) * uniforms.h + ${normal}(w${j}[l]) * uniforms.amp;
    }`,
  ).join('\n');
}

/** WGSL of the steps of a thread (it owns one Philox block). */
function blockLoop(u: number, start: PhiloxStart, normal: string): string {
  const one = `${philoxSteps(1, start, () => 't')}
${updates(1, normal)}`;
  if (u === 1) {
    return `  for (var t = 0; t < uniforms.nSteps; t++) {
${one}
  }`;
  }
  return `  var t = 0;
  for (; t + ${u} <= uniforms.nSteps; t += ${u}) {
${philoxSteps(u, start, (j) => `t + ${j}`)}
${updates(u, normal)}
  }
  for (; t < uniforms.nSteps; t++) {
${one}
  }`;
}

/**
 * Whole-chain Euler–Maruyama Langevin for a separable energy (∂ᵢE depends on xᵢ only, a WGSL expression in
 * `x`, `c0`, `c1`): each thread owns 4 consecutive elements of the flat `[B, D]` state, which are exactly one
 * Philox block of the noise (element i = lane i mod 4 of block ⌊i/4⌋, core's layout), so noise costs one
 * Philox call per thread and step. Input `X` (states).
 *
 * The step keys are computed in the program (no key dispatch, no upload): the workgroup first writes
 * k_t = `foldIn(key, start + t)` for t < nSteps into workgroup memory (⌈nSteps / W⌉ Philox calls per thread,
 * `keySlots` ≥ nSteps slots of 8 bytes, 16 when hoisted), then every thread runs its steps from there — the same
 * words as {@link stepKeysProgram}, so the samples are bit-identical to the two-dispatch form. `start` is a
 * 64-bit step index as two words (uniforms `startLo`, `startHi`). With `drawX0` the program has no input: it
 * draws x0 ~ N(0, I) itself, element i = `ebmBitsToNormal` of lane i mod 4 of Philox block ⌊i/4⌋ under the key
 * (`x0k0`, `x0k1`) — the stream and conversion of `randomNormal` on WebGPU — so a whole `sample()` call is one
 * dispatch.
 *
 * `variantArg` (default: the forced one, {@link setSeparableChainVariant}, else by size: {@link autoSeparableVariant})
 * changes the code, never the numbers: see {@link SeparableChainVariant}.
 */
export function separableLangevinProgram(
  kind: string,
  gradient: string,
  shape: [number, number],
  keySlots: number,
  drawX0 = false,
  variantArg?: SeparableChainVariant,
): Program {
  const n = shape[0] * shape[1];
  const variant = variantArg ?? separableChainVariant(n);
  const { unroll: u, workgroup: wg, hoist, select: sel } = variant;
  if (separableWorkgroupBytes(variant, keySlots) > WG_MEMORY) badVariant(separableVariantLabel(variant));
  const label = separableVariantLabel(variant);
  const tag =
    label === separableVariantLabel(DEFAULT_SEPARABLE_VARIANT) ? '' : `_${label.split('/').join('_')}`;
  const normal = sel ? 'ebmBitsToNormalSelect' : 'ebmBitsToNormal';
  const start: PhiloxStart = hoist ? 'table' : 'plain';
  const keyWrite = hoist
    ? `let k = ebmPhilox(vec4<u32>(lo, hi, ${TAG_FOLD}u, 0u), runKey).xy;
    let b = ebmMulHiLo(0xd2511f53u, k.x);
    let k2 = k + ${PHILOX_W};
    ebmKeys[t] = vec4<u32>(k.y, k2.x, b.x ^ k2.y, b.y);`
    : `ebmKeys[t] = ebmPhilox(vec4<u32>(lo, hi, ${TAG_FOLD}u, 0u), runKey).xy;`;
  const prologue = `  // Step keys of this dispatch, shared by the workgroup (every thread takes part, also those past the end).
  let runKey = vec2<u32>(uniforms.k0, uniforms.k1);
  for (var t = i32(localIndex); t < uniforms.nSteps; t += ${wg}) {
    let lo = uniforms.startLo + u32(t);
    let hi = uniforms.startHi + select(0u, 1u, lo < uniforms.startLo);
    ${keyWrite}
  }
  workgroupBarrier();`;
  const x0Draw = `vec2<u32>(uniforms.x0k0, uniforms.x0k1)`;
  const body = `${prologue}
  let first = index * 4;
  if (first >= uniforms.size) {
    return;
  }
  var x = vec4<f32>(0.0);
  let counter = vec4<u32>(u32(index), 0u, 0u, 0u);
${
  drawX0
    ? `  // x0 ~ N(0, I): element i is lane i mod 4 of Philox block i/4 under the x0 key (randomNormal's stream).
  let z = ebmPhilox(counter, ${x0Draw});
  for (var l = 0; l < 4; l++) {
    x[l] = ebmBitsToNormal(z[l]);
  }`
    : `  for (var l = 0; l < 4; l++) {
    if (first + l < uniforms.size) {
      x[l] = X[first + l];
    }
  }`
}${hoist ? '\n  // Round 1 of every step: mulhilo(M0, i) (the other product, mulhilo(M1, 0), is 0).\n  let a = ebmMulHiLo(0xd2511f53u, u32(index));' : ''}
${blockLoop(u, start, normal)}
  for (var l = 0; l < 4; l++) {
    if (first + l < uniforms.size) {
      result[first + l] = x[l];
    }
  }`;
  return {
    outputShape: shape,
    shaderKey: `ebm_chain_sep_langevin_${kind}_${keySlots}${drawX0 ? '_draw' : ''}${tag}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: flatDispatch(Math.ceil(Math.ceil(n / 4) / wg)),
    variableNames: drawX0 ? [] : ['X'],
    workgroupSize: [wg, 1, 1],
    size: true,
    uniforms: `k0 : u32, k1 : u32, startLo : u32, startHi : u32, nSteps : i32, h : f32, amp : f32, c0 : f32, c1 : f32,${
      drawX0 ? ' x0k0 : u32, x0k1 : u32,' : ''
    }`,
    getUserCode: () => `
${PHILOX_WGSL}
${NORMAL_WGSL}
${sel ? NORMAL_SELECT_WGSL : ''}
var<workgroup> ebmKeys : array<vec${hoist ? 4 : 2}<u32>, ${keySlots}>;

fn ebmGrad(x : f32) -> f32 {
  let c0 = uniforms.c0;
  let c1 = uniforms.c1;
  return ${gradient};
}
fn main(index : i32) {
${body}
}
`,
  };
}

/** The update a row-chain program runs. */
export type ChainMethod = 'langevin' | 'mala' | 'hmc';

/** Workgroup size of the one-thread-per-chain programs (one warp on NVIDIA; more workgroups for few chains). */
export const ROW_WG = 32;

/** What a row-chain dispatch records besides the final states. */
export interface TraceLayout {
  /** Kept steps in this dispatch. */
  readonly nKept: number;
  /** Record per-workgroup statistics (mean, M2 of x; summed energy, acceptance, accept probability; count). */
  readonly stats: boolean;
  /** Record the kept positions `[B, nKept, D]`. */
  readonly positions: boolean;
}

/** Floats per workgroup and kept step in the statistics block: mean (D), M2 (D), ΣE, Σaccepted, Σ min(1, α), n. */
export function statsWidth(dim: number): number {
  return 2 * dim + 4;
}

/** Sizes of the flat output of a traced dispatch: [x (B·D) | positions (B·nKept·D) | stats (nKept·nWG·S)]. */
export function traceSizes(
  b: number,
  d: number,
  t: TraceLayout,
): { x: number; positions: number; stats: number; groups: number } {
  const groups = Math.ceil(b / ROW_WG);
  return {
    x: b * d,
    positions: t.positions ? b * t.nKept * d : 0,
    stats: t.stats ? t.nKept * groups * statsWidth(d) : 0,
    groups,
  };
}

/**
 * One thread per chain: `nSteps` Langevin (Euler–Maruyama), MALA or HMC steps of the WGSL energy, noise and
 * accept uniforms generated in the kernel with core's stream (per step: `foldIn(key, step)`; MH:
 * `splitKey(·, 2)` = [proposal, accept]), the chain's x, ∇E (and E) in registers. Inputs `X` (states `[B, D]`),
 * `K` (step keys), `P` (energy constants).
 *
 * Updates (A = scalar inverse mass):
 * - Langevin: x ← x − h∇E(x) + σ√(2h)ξ; with `perStepNoise` step t uses σ_t√(2h) = S[stepOffset + t] (input `S`).
 * - MALA: y = x − hA∇E(x) + √(2hA)ξ, log α = E(x) − E(y) − (‖x − y + hA∇E(y)‖² − ‖y − x + hA∇E(x)‖²)/(4hA).
 * - HMC: p = ξ/√A, L leapfrog steps (half kick, drift εAp, half kick), log α = H(x, p₀) − H(q, p),
 *   H = E + ½A‖p‖².
 * MH accepts where log u < log α (u from the accept key, element = chain; non-finite log α rejected).
 *
 * With `trace`, kept steps (global step i = offset + t + 1 > burnIn, (i − burnIn) mod thin = 0) are reduced
 * per workgroup into the statistics block (two barriers per 32 coordinates) and/or written to positions.
 */
export function rowChainProgram(
  method: ChainMethod,
  energy: WgslEnergy,
  b: number,
  d: number,
  trace: TraceLayout | undefined,
  perStepNoise = false,
): Program {
  // Langevin's noise amplitude of step t: the uniform a = σ√(2h), or a_t = σ_t√(2h) from input S (tempered).
  const amp = perStepNoise ? 'S[uniforms.stepOffset + t]' : 'uniforms.amp';
  const sizes = trace === undefined ? undefined : traceSizes(b, d, trace);
  const total = sizes === undefined ? b * d : sizes.x + sizes.positions + sizes.stats;
  const mh = method !== 'langevin';
  const kw = mh ? 4 : 2;
  const cb = Math.min(d, 32);
  const shared = ROW_WG * Math.max(cb, 4);
  const stats = trace?.stats === true;
  const positions = trace?.positions === true;
  const traced = stats || positions;
  const recordBody = `
    let i = uniforms.stepOffset + t + 1;
    if (i > uniforms.burnIn && (i - uniforms.burnIn) % uniforms.thin == 0) {
      let kept = (i - uniforms.burnIn) / uniforms.thin - 1 - uniforms.keptBase;
      ${method === 'langevin' ? 'e = ebmEnergyGrad(&x, &g);\n      fresh = true;' : ''}
      ${
        positions
          ? `if (live) {
        let pbase = ${b * d} + (row * uniforms.nKept + kept) * D;
        for (var j = 0; j < D; j++) {
          result[pbase + j] = x[j];
        }
      }`
          : ''
      }
      ${stats ? 'ebmRecordStats(kept, wg, lid, live, &x, e, acc, aprob);' : ''}
    }`;
  const statsFn = stats
    ? `
var<workgroup> ebmSh : array<f32, ${shared}>;
fn ebmRecordStats(kept : i32, wg : i32, lid : i32, live : bool, x : ptr<function, array<f32, D>>, e : f32,
                  acc : f32, aprob : f32) {
  let S = ${statsWidth(d)};
  let base = ${b * d + (sizes?.positions ?? 0)} + (kept * ${sizes?.groups ?? 1} + wg) * S;
  let n = f32(min(${ROW_WG}, uniforms.nChains - wg * ${ROW_WG}));
  for (var c0 = 0; c0 < D; c0 += ${cb}) {
    for (var c = 0; c < ${cb}; c++) {
      var v = 0.0;
      if (live && c0 + c < D) {
        v = (*x)[c0 + c];
      }
      ebmSh[lid * ${cb} + c] = v;
    }
    workgroupBarrier();
    if (lid < ${cb} && c0 + lid < D) {
      var s = 0.0;
      for (var r = 0; r < ${ROW_WG}; r++) {
        s += ebmSh[r * ${cb} + lid];
      }
      let m = s / n;
      var m2 = 0.0;
      for (var r = 0; r < i32(n); r++) {
        let dv = ebmSh[r * ${cb} + lid] - m;
        m2 += dv * dv;
      }
      result[base + c0 + lid] = m;
      result[base + D + c0 + lid] = m2;
    }
    workgroupBarrier();
  }
  ebmSh[lid] = select(0.0, e, live);
  ebmSh[${ROW_WG} + lid] = select(0.0, acc, live);
  ebmSh[${2 * ROW_WG} + lid] = select(0.0, aprob, live);
  workgroupBarrier();
  if (lid < 3) {
    var s = 0.0;
    for (var r = 0; r < ${ROW_WG}; r++) {
      s += ebmSh[lid * ${ROW_WG} + r];
    }
    result[base + 2 * D + lid] = s;
  }
  if (lid == 3) {
    result[base + 2 * D + 3] = n;
  }
  workgroupBarrier();
}`
    : '';
  const keyAt = (w: number) => `bitcast<u32>(K[${kw} * (uniforms.stepOffset + t) + ${w}])`;
  let body: string;
  if (method === 'langevin') {
    body = `
  var fresh = false;
  for (var t = 0; t < uniforms.nSteps; t++) {
    let key = vec2<u32>(${keyAt(0)}, ${keyAt(1)});
    if (!fresh) {
      e = ebmEnergyGrad(&x, &g);
    }
    fresh = false;
    ebmNormalRow(&z, row, key);
    for (var j = 0; j < D; j++) {
      x[j] = x[j] - uniforms.h * g[j] + ${amp} * z[j];
    }
    ${traced ? recordBody : ''}
  }`;
  } else {
    const proposal =
      method === 'mala'
        ? `
    let c = uniforms.h * uniforms.invMass;
    let sn = sqrt(2.0 * c);
    for (var j = 0; j < D; j++) {
      y[j] = x[j] - c * g[j] + sn * z[j];
    }
    let ey = ebmEnergyGrad(&y, &gy);
    var wf = 0.0;
    var wb = 0.0;
    for (var j = 0; j < D; j++) {
      let fw = y[j] - x[j] + c * g[j];
      let bw = x[j] - y[j] + c * gy[j];
      wf += fw * fw;
      wb += bw * bw;
    }
    let la = (e - ey) - (wb - wf) / (4.0 * c);`
        : `
    let eps = uniforms.h;
    let half = 0.5 * eps;
    let a = uniforms.invMass;
    let ia = 1.0 / sqrt(a);
    var k0 = 0.0;
    for (var j = 0; j < D; j++) {
      let pj = z[j] * ia;
      z[j] = pj;
      k0 += pj * pj;
      y[j] = x[j];
      gy[j] = g[j];
    }
    var ey = e;
    for (var l = 0; l < uniforms.nLeapfrog; l++) {
      for (var j = 0; j < D; j++) {
        let ph = z[j] - half * gy[j];
        z[j] = ph;
        y[j] = y[j] + eps * (a * ph);
      }
      ey = ebmEnergyGrad(&y, &gy);
      for (var j = 0; j < D; j++) {
        z[j] = z[j] - half * gy[j];
      }
    }
    var k1 = 0.0;
    for (var j = 0; j < D; j++) {
      k1 += z[j] * z[j];
    }
    let la = (e + 0.5 * a * k0) - (ey + 0.5 * a * k1);`;
    body = `
  e = ebmEnergyGrad(&x, &g);
  for (var t = 0; t < uniforms.nSteps; t++) {
    let kp = vec2<u32>(${keyAt(0)}, ${keyAt(1)});
    let ka = vec2<u32>(${keyAt(2)}, ${keyAt(3)});
    ebmNormalRow(&z, row, kp);
    ${proposal}
    let ub = ebmPhilox(vec4<u32>(u32(row >> 2u), 0u, 0u, 0u), ka);
    let u = ebmBitsToUniform(ub[row & 3]);
    let finite = (bitcast<u32>(la) & 0x7f800000u) != 0x7f800000u;
    let accept = finite && log(u) < la;
    acc = select(0.0, 1.0, accept);
    aprob = select(0.0, exp(min(la, 0.0)), finite);
    if (accept) {
      for (var j = 0; j < D; j++) {
        x[j] = y[j];
        g[j] = gy[j];
      }
      e = ey;
    }
    ${traced ? recordBody : ''}
  }`;
  }
  const mhUniforms = mh ? 'invMass : f32, nLeapfrog : i32,' : '';
  return {
    outputShape: sizes === undefined ? [b, d] : [total],
    shaderKey: `ebm_row_${method}_${energy.key}_D${d}${traced ? `_tr${stats ? 's' : ''}${positions ? `p${b}` : ''}_B${b}` : ''}${perStepNoise ? '_ps' : ''}`,
    dispatchLayout: { x: sizes === undefined ? [0, 1] : [0] },
    dispatch: flatDispatch(Math.ceil(b / ROW_WG)),
    variableNames: perStepNoise ? ['X', 'K', 'P', 'S'] : ['X', 'K', 'P'],
    workgroupSize: [ROW_WG, 1, 1],
    size: true,
    uniforms: `nChains : i32, stepOffset : i32, nSteps : i32, h : f32, amp : f32, ${mhUniforms} burnIn : i32, thin : i32, keptBase : i32, nKept : i32,`,
    getUserCode: () => `
const D : i32 = ${d};
${PHILOX_WGSL}
${NORMAL_WGSL}
${UNIFORM_WGSL}
${energy.code}
fn ebmNormalRow(z : ptr<function, array<f32, D>>, row : i32, key : vec2<u32>) {
  var blk = -1;
  var w = vec4<u32>(0u);
  for (var j = 0; j < D; j++) {
    let i = row * D + j;
    let bi = i >> 2u;
    if (bi != blk) {
      w = ebmPhilox(vec4<u32>(u32(bi), 0u, 0u, 0u), key);
      blk = bi;
    }
    (*z)[j] = ebmBitsToNormal(w[i & 3]);
  }
}
${statsFn}
fn main(index : i32) {
  let lid = i32(localIndex);
  let wg = index / ${ROW_WG};
  let live = index < uniforms.nChains;
  let row = select(0, index, live);
  var x : array<f32, D>;
  var g : array<f32, D>;
  var z : array<f32, D>;
  ${mh ? 'var y : array<f32, D>;\n  var gy : array<f32, D>;' : ''}
  var e = 0.0;
  var acc = 1.0;
  var aprob = 1.0;
  for (var j = 0; j < D; j++) {
    x[j] = X[row * D + j];
  }
  ${body}
  if (live) {
    for (var j = 0; j < D; j++) {
      result[row * D + j] = x[j];
    }
  }
}
`,
  };
}
