import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Program } from './chain-programs.js';
import { flatDispatch } from './chain-programs.js';
import {
  chainQuads,
  langevinUpdate,
  loadStates,
  stepHeader,
  storeStates,
  transposedIndex,
} from './mlp-chain-fragments.js';
import { COOP_TARGET_GROUPS } from './mlp-coop.js';
import type { MlpLayout } from './mlp-energy.js';
import { NORMAL_WGSL, PHILOX_WGSL } from './wgsl.js';

/**
 * Register-tiled whole-chain Euler–Maruyama Langevin for an MLP energy (variant `'tile'` of the cooperative
 * program, `mlp-coop.ts`). Each dense layer of a workgroup's `C` chains is a small matrix product
 * Z[C × nOut] = H[C × nIn] · W[nIn × nOut]: thread (tc, tu) of the `TC × TU` threads accumulates an outer-product
 * tile of `RC` chains (RC / 4 vec4 registers) × `RU` units (`u = tu + TU·r`, so the `RU` weight loads of a warp
 * are coalesced), so per input k one weight read serves `RC` chains and one vec4 activation read (a broadcast:
 * the threads of a warp share tc) serves `RU` units. The backward pass is the same product against the
 * transposed weights `Q` (Wⱼᵀ, built once per call by {@link mlpTransposedWeights}), so its loads are coalesced
 * too: δⱼ₋₁[c, i] = (Σᵤ δⱼ[c, u] · Wⱼᵀ[u, i]) · φ'(zⱼ₋₁[c, i]), ∇ₓE[c, k] = Σᵤ δ₀[c, u] · W₀ᵀ[u, k]. The output
 * layer is folded into the last forward layer (δ_{L−1} = w_out ⊙ φ'(z_{L−1}), h_{L−1} never stored), and
 * δⱼ₋₁ is written in place over φ'(zⱼ₋₁): 2L + 1 barriers per step (the cooperative program: 2L + 3).
 *
 * Activations live in workgroup memory transposed, `[unit][chain]` as vec4 over 4 chains; states and gradients in a
 * scalar `[k][chain]` array. Every sum runs in the cooperative program's order (bias then inputs 0, 1, …; backward
 * from 0, units 0, 1, …), so states equal it up to float32 contraction (fused multiply–add) choices of the compiler.
 * Langevin update and noise as there (the same `mlp-chain-fragments.ts`): x ← x − h∇E + a ξ, ξ from Philox in core's
 * layout (thread q owns block q of the workgroup's rows, the four flat elements 4q..4q+3). Inputs `X`, `K` (step
 * keys), `P` (flat weights), `Q` (transposed hidden kernels), and `S` (per-step noise amplitudes) with
 * `perStepNoise`. Internal.
 * @module
 */

/** Tile shape: `c` chains and `t` threads per workgroup, `rc` chains × `ru` units per thread. */
export interface TileShape {
  readonly c: number;
  readonly t: number;
  readonly rc: number;
  readonly ru: number;
  /**
   * Units of a thread contiguous (`u = ru·tu + r`, spec suffix `c`: its `ru` weight loads are adjacent, which the
   * compiler may merge into one vector load) instead of strided (`u = tu + TU·r`: each load coalesced over a warp).
   */
  readonly contiguous?: boolean;
}

/** Chains per thread the tiled program supports (whole vec4 registers). */
export const TILE_RC = [4, 8] as const;
/** Units per thread the tiled program supports. */
export const TILE_RU = [1, 2, 4, 8] as const;
/** Threads per workgroup the tiled program supports. */
export const TILE_THREADS = [8, 16, 32, 64, 128, 256] as const;
/** Chains per workgroup the tiled program supports. */
export const TILE_CHAINS = [4, 8, 16, 32, 64] as const;

/** Floats of workgroup memory the tiled program needs for `c` chains per workgroup. */
export function tileSharedFloats(layout: MlpLayout, c: number): number {
  const { widths } = layout;
  const hidden = widths.slice(1, -1);
  const L = hidden.length;
  const wide = Math.max(...hidden);
  const dp = hidden.slice(0, L - 1).reduce((a, b) => a + b, 0);
  return c * ((L >= 2 ? 2 : 1) * wide + widths[0]! + dp);
}

/** Threads along the chain axis (`c / rc`) and along the unit axis (`t / (c / rc)`). */
function split(s: TileShape): { tc: number; tu: number } {
  const tc = s.c / s.rc;
  return { tc, tu: s.t / tc };
}

/** Whether `s` is a valid tile shape whose workgroup memory fits `limitBytes`. */
export function tileShapeFits(layout: MlpLayout, s: TileShape, limitBytes: number): boolean {
  return (
    (TILE_CHAINS as readonly number[]).includes(s.c) &&
    (TILE_THREADS as readonly number[]).includes(s.t) &&
    (TILE_RC as readonly number[]).includes(s.rc) &&
    (TILE_RU as readonly number[]).includes(s.ru) &&
    s.c % s.rc === 0 &&
    s.t % (s.c / s.rc) === 0 &&
    4 * tileSharedFloats(layout, s.c) <= limitBytes
  );
}

/**
 * The default tile for `b` chains: `rc` = 4 chains × `ru` = 4 units per thread, `tu` threads along the widest
 * hidden layer (width / 4 rounded up to a power of two, 8..64), and the most chains per workgroup (16, 8, 4) that
 * still give ≥ COOP_TARGET_GROUPS workgroups (else 4) and fit `limitBytes`; `undefined` when nothing fits (then
 * the cooperative program runs).
 */
export function defaultTileShape(layout: MlpLayout, b: number, limitBytes: number): TileShape | undefined {
  const wide = Math.max(...layout.widths.slice(1, -1));
  let tu = 8;
  while (tu < 64 && tu * 4 < wide) tu *= 2;
  const shapes = [16, 8, 4]
    .map((c) => ({ c, t: (c / 4) * tu, rc: 4, ru: 4 }))
    .filter((s) => tileShapeFits(layout, s, limitBytes));
  return shapes.find((s) => Math.ceil(b / s.c) >= COOP_TARGET_GROUPS) ?? shapes[shapes.length - 1];
}

/**
 * The tile shape of `settings.mlpVariant`: `'tile'` (the default tile, `undefined` when none fits) or
 * `'tile:<c>x<t>x<rc>x<ru>[c]'` (e.g. `'tile:16x128x4x4'`; suffix `c`: contiguous units; a clear `EbmError` when
 * malformed or too big).
 */
export function tileShapeFor(
  layout: MlpLayout,
  b: number,
  spec: string,
  limitBytes: number,
): TileShape | undefined {
  if (spec === 'tile') return defaultTileShape(layout, b, limitBytes);
  const m = /^tile:(\d+)x(\d+)x(\d+)x(\d+)(c?)$/.exec(spec);
  const s =
    m === null
      ? undefined
      : { c: +m[1]!, t: +m[2]!, rc: +m[3]!, ru: +m[4]!, ...(m[5] === 'c' ? { contiguous: true } : {}) };
  if (s === undefined || !tileShapeFits(layout, s, limitBytes)) {
    throw new EbmError(
      'INVALID_PARAM',
      `settings.mlpVariant 'tile:<c>x<t>x<rc>x<ru>' needs c in ${TILE_CHAINS.join(', ')}, t in ${TILE_THREADS.join(', ')}, rc in ${TILE_RC.join(', ')} dividing c, ru in ${TILE_RU.join(', ')}, t a multiple of c / rc, and workgroup memory (${tileSharedFloats(layout, s?.c ?? 0) * 4} bytes) within the adapter's ${limitBytes}.`,
      {
        argument: 'settings.mlpVariant',
        value: spec,
        fix: "pass e.g. 'tile:16x128x4x4', 'tile' (fitted to the batch) or 'coop'.",
      },
    );
  }
  return s;
}

/**
 * The transposed hidden kernels `Q` of the tiled program: W₀ᵀ, …, W_{L−1}ᵀ (`[n_{j+1}, n_j]` each, row-major)
 * concatenated, from the flat weights `params` (layout `layout`). Offsets: {@link tileQOffsets}.
 */
export function mlpTransposedWeights(layout: MlpLayout, params: tf.Tensor1D): tf.Tensor1D {
  const { widths, wOff } = layout;
  const L = widths.length - 2;
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let j = 0; j < L; j++) {
      const n = widths[j]! * widths[j + 1]!;
      const w = tf.reshape(tf.slice(params, [wOff[j]!], [n]), [widths[j]!, widths[j + 1]!]);
      parts.push(tf.reshape(tf.transpose(w), [-1]));
    }
    return (parts.length === 1 ? parts[0]! : tf.concat(parts)) as tf.Tensor1D;
  });
}

/** Offsets of Wⱼᵀ in {@link mlpTransposedWeights}' buffer. */
export function tileQOffsets(layout: MlpLayout): number[] {
  const { widths } = layout;
  const out: number[] = [];
  let acc = 0;
  for (let j = 0; j + 2 < widths.length; j++) {
    out.push(acc);
    acc += widths[j]! * widths[j + 1]!;
  }
  return out;
}

/** WGSL `ebmActV<s>` and `ebmActGradV<s>`: the activation functions of suffix `s` on a vec4 (four chains). */
function vectorActivations(s: string): string {
  return `fn ebmActV${s}(z : vec4<f32>) -> vec4<f32> {
  return vec4<f32>(ebmAct${s}(z.x), ebmAct${s}(z.y), ebmAct${s}(z.z), ebmAct${s}(z.w));
}
fn ebmActGradV${s}(z : vec4<f32>) -> vec4<f32> {
  return vec4<f32>(ebmActGrad${s}(z.x), ebmActGrad${s}(z.y), ebmActGrad${s}(z.z), ebmActGrad${s}(z.w));
}`;
}

/** One dense product's source: a vec4 workgroup array (`[unit][chain/4]`) or the scalar state array. */
interface Dense {
  nIn: number;
  nOut: number;
  /** Vec4 workgroup array and its vec4 offset, or `'ebmX'` (scalar `[k][chain]`). */
  src: string;
  srcOff: number;
  mat: 'P' | 'Q';
  matOff: number;
  /** Bias offset in P, or undefined (sums start at 0). */
  bias?: number;
  /** Statements for accumulator `a` (vec4 over chains 4·cv..4·cv+3) of unit `u`. */
  epi: (a: string, u: string, cv: string) => string;
}

/**
 * The register-tiled Langevin program for `b` chains of dimension `d` in tile shape `shape`. With `perStepNoise`
 * it reads the noise amplitude of step t from input `S` (a_t = σ_t√(2h), indexed by stepOffset + t).
 */
export function mlpTileLangevinProgram(
  layout: MlpLayout,
  b: number,
  d: number,
  shape: TileShape,
  perStepNoise = false,
): Program {
  const { widths, wOff, bOff, actCode, key, act, actSuffixes } = layout;
  const { c: C, t: T, rc: RC, ru: RU } = shape;
  const { tu: TU } = split(shape);
  const CV = C / 4; // vec4 chain groups per workgroup
  const RV = RC / 4; // vec4 chain groups per thread
  const L = widths.length - 2;
  const hidden = widths.slice(1, -1);
  const wide = Math.max(...hidden);
  const qOff = tileQOffsets(layout);
  const dOff: number[] = []; // vec4 offsets of φ'(zⱼ) (j < L − 1) in ebmD
  let acc = 0;
  for (let j = 0; j < L - 1; j++) {
    dOff.push(acc);
    acc += hidden[j]! * CV;
  }
  const regs = chainQuads(C, T, d); // the chains' states in registers
  const out = (j: number) => (j % 2 === 0 ? 'ebmA' : 'ebmB');

  const dense = (o: Dense): string => {
    const ru = Math.min(RU, Math.ceil(o.nOut / TU));
    const span = TU * ru;
    const nb = Math.ceil(o.nOut / span);
    const exact = o.nOut % span === 0;
    const rs = [...Array(ru).keys()];
    const vs = [...Array(RV).keys()];
    const lines: string[] = [];
    lines.push(`    for (var ub = 0; ub < ${nb}; ub++) {`);
    for (const r of rs) {
      lines.push(
        shape.contiguous
          ? `      let u${r} = ub * ${span} + tu * ${ru} + ${r};`
          : `      let u${r} = ub * ${span} + tu + ${TU * r};`,
      );
      lines.push(`      let m${r} = ${exact ? `u${r}` : `min(u${r}, ${o.nOut - 1})`};`);
    }
    for (const v of vs)
      for (const r of rs)
        lines.push(
          `      var a${v}_${r} = vec4<f32>(${o.bias === undefined ? '0.0' : `P[${o.bias} + m${r}]`});`,
        );
    lines.push(`      for (var k = 0; k < ${o.nIn}; k++) {`);
    for (const r of rs) lines.push(`        let w${r} = ${o.mat}[${o.matOff} + k * ${o.nOut} + m${r}];`);
    for (const v of vs) {
      if (o.src === 'ebmX') {
        lines.push(`        let xb${v} = k * ${C} + 4 * (cvb + ${v});`);
        lines.push(
          `        let h${v} = vec4<f32>(ebmX[xb${v}], ebmX[xb${v} + 1], ebmX[xb${v} + 2], ebmX[xb${v} + 3]);`,
        );
      } else lines.push(`        let h${v} = ${o.src}[${o.srcOff} + k * ${CV} + cvb + ${v}];`);
    }
    for (const v of vs) for (const r of rs) lines.push(`        a${v}_${r} += h${v} * w${r};`);
    lines.push('      }');
    for (const r of rs) {
      const body = vs.map((v) => o.epi(`a${v}_${r}`, `u${r}`, `(cvb + ${v})`)).join('\n');
      lines.push(exact ? body : `      if (u${r} < ${o.nOut}) {\n${body}\n      }`);
    }
    lines.push('    }');
    lines.push('    workgroupBarrier();');
    return lines.join('\n');
  };

  const phases: string[] = [];
  // Forward: hidden layer j reads ebmX (j = 0) or out(j − 1) and writes h = φ(z) to out(j) and φ'(z) to ebmD;
  // the last hidden layer writes δ_{L−1} = w_out ⊙ φ'(z_{L−1}) to out(L − 1).
  for (let j = 0; j < L; j++) {
    const lastLayer = j === L - 1;
    phases.push(
      dense({
        nIn: widths[j]!,
        nOut: widths[j + 1]!,
        src: j === 0 ? 'ebmX' : out(j - 1),
        srcOff: 0,
        mat: 'P',
        matOff: wOff[j]!,
        bias: bOff[j]!,
        epi: (a, u, cv) =>
          lastLayer
            ? `        ${out(j)}[${u} * ${CV} + ${cv}] = P[${wOff[L]} + ${u}] * ebmActGradV${act[j]}(${a});`
            : `        ${out(j)}[${u} * ${CV} + ${cv}] = ebmActV${act[j]}(${a});\n        ebmD[${dOff[j]} + ${u} * ${CV} + ${cv}] = ebmActGradV${act[j]}(${a});`,
      }),
    );
  }
  // Backward: δⱼ₋₁ = (Wⱼ·δⱼ) ⊙ φ'(zⱼ₋₁), in place over φ'(zⱼ₋₁).
  const delta = (j: number) => (j === L - 1 ? { src: out(L - 1), off: 0 } : { src: 'ebmD', off: dOff[j]! });
  for (let j = L - 1; j >= 1; j--) {
    const { src, off } = delta(j);
    phases.push(
      dense({
        nIn: widths[j + 1]!,
        nOut: widths[j]!,
        src,
        srcOff: off,
        mat: 'Q',
        matOff: qOff[j]!,
        epi: (a, u, cv) =>
          `        ebmD[${dOff[j - 1]} + ${u} * ${CV} + ${cv}] = ${a} * ebmD[${dOff[j - 1]} + ${u} * ${CV} + ${cv}];`,
      }),
    );
  }
  // ∇ₓE = W₀·δ₀, into ebmX (scalar [k][chain]).
  const d0 = delta(0);
  phases.push(
    dense({
      nIn: widths[1]!,
      nOut: d,
      src: d0.src,
      srcOff: d0.off,
      mat: 'Q',
      matOff: qOff[0]!,
      epi: (a, u, cv) =>
        `        let g${a} = ${u} * ${C} + 4 * ${cv};\n        ebmX[g${a}] = ${a}.x;\n        ebmX[g${a} + 1] = ${a}.y;\n        ebmX[g${a} + 2] = ${a}.z;\n        ebmX[g${a} + 3] = ${a}.w;`,
    }),
  );

  // The update reads ∇ₓE from ebmX ([k][chain]) and writes the new state back there for the next step.
  const update = langevinUpdate(regs, {
    before: [`let xi = ${transposedIndex(regs)};`],
    grad: 'ebmX[xi]',
    after: ['ebmX[xi] = xr[qi][l];'],
    guard: false,
  });
  const tileKey = `C${C}_T${T}_R${RC}x${RU}${shape.contiguous ? 'c' : ''}`;
  return {
    outputShape: [b, d],
    shaderKey: `ebm_mlp_tile_langevin_${key}_D${d}_${tileKey}${perStepNoise ? '_ps' : ''}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: flatDispatch(Math.ceil(b / C)),
    variableNames: perStepNoise ? ['X', 'K', 'P', 'Q', 'S'] : ['X', 'K', 'P', 'Q'],
    workgroupSize: [T, 1, 1],
    size: true,
    uniforms: 'nChains : i32, stepOffset : i32, nSteps : i32, h : f32, amp : f32,',
    getUserCode: () => `
${PHILOX_WGSL}
${NORMAL_WGSL}
${actCode}
${actSuffixes.map(([s]) => vectorActivations(s)).join('\n')}
var<workgroup> ebmX : array<f32, ${C * d}>;
var<workgroup> ebmA : array<vec4<f32>, ${wide * CV}>;
${L >= 2 ? `var<workgroup> ebmB : array<vec4<f32>, ${wide * CV}>;\nvar<workgroup> ebmD : array<vec4<f32>, ${acc}>;` : ''}
fn main(index : i32) {
  let tid = i32(localIndex);
  let tu = tid % ${TU};
  let cvb = (tid / ${TU}) * ${RV};
  let c0 = (index / ${T}) * ${C};
${loadStates(regs, 'ebmX')}
  workgroupBarrier();
${stepHeader(perStepNoise)}
${phases.join('\n')}
${update}
  }
${storeStates(regs)}
}
`,
  };
}
