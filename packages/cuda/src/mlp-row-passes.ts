import type { MlpLayout } from './mlp-energy.js';

/**
 * WGSL generators for the per-row passes through an MLP that the fused training programs share
 * (`mlp-train.ts`'s contrastive step, `mlp-gradient-regression.ts`'s rows program): one workgroup per row, its
 * `threads` threads splitting each layer's units, two workgroup buffers of the widest layer alternating as a
 * layer's input and output, the pre-activations zⱼ of every hidden layer kept in workgroup memory. Internal
 * module.
 *
 * Network (core's MLP hint): a₀ = x, zⱼ = aⱼ·Kⱼ + bⱼ, aⱼ₊₁ = φ(zⱼ) (j < L), output a_L·K_L + b_L. The backward
 * pass is the input-gradient recursion δ_{L−1} = K_L ⊙ φ'(z_{L−1})·c, sⱼ = Kⱼ·δⱼ, δⱼ₋₁ = sⱼ ⊙ φ'(zⱼ₋₁), or
 * (`second`) the forward-over-reverse adjoint z̄_{L−1} = K_L ⊙ φ''(z_{L−1}) ⊙ ż_{L−1},
 * z̄ⱼ₋₁ = (Kⱼ·z̄ⱼ) ⊙ φ'(zⱼ₋₁) + sⱼ ⊙ φ''(zⱼ₋₁) ⊙ żⱼ₋₁ (see `mlp-gradient-regression.ts`).
 *
 * The code they return runs inside the program's `main` and expects in scope: `tid` (the thread in the
 * workgroup), `live` (whether the workgroup has a row), `r` (its row), `P` (the flat weights at the layout's
 * `wOff`/`bOff`), `result`, the program's `ebmAct`/`ebmActGrad` (and `ebmActGrad2` for `second`; with per-layer
 * activations the suffixed functions of the layout's `act`), and the workgroup arrays it names. Every block ends with a `workgroupBarrier()`.
 * @module
 */

/** Offsets of the hidden layers' units in one workgroup array of all of them (zⱼ at `zOff[j]`), and its size. */
export interface HiddenOffsets {
  readonly zOff: readonly number[];
  readonly sumH: number;
}

/** Where zⱼ of hidden layer j (j < L) starts in an array of every hidden unit; `sumH` the total. */
export function hiddenOffsets(widths: readonly number[]): HiddenOffsets {
  const zOff: number[] = [];
  let sumH = 0;
  for (let j = 0; j + 2 < widths.length; j++) {
    zOff.push(sumH);
    sumH += widths[j + 1]!;
  }
  return { zOff, sumH };
}

/** WGSL of `result[off + r * n + unit] = value` for a live row, or nothing without an offset. */
function store(off: number | undefined, n: number, unit: string, value: string): string {
  return off === undefined ? '' : `\n    if (live) { result[${off} + r * ${n} + ${unit}] = ${value}; }`;
}

/** Options of {@link mlpRowForward}. */
export interface RowForwardOptions {
  /** The two alternating workgroup buffers (a₀ = x in `bufs[0]`: dense j reads `bufs[j % 2]`). */
  readonly bufs: readonly [string, string];
  /** The workgroup array of every hidden zⱼ (at {@link hiddenOffsets}' `zOff`). */
  readonly z: string;
  /** Offset in `result` to write aⱼ₊₁ of every row at (`[rows, widths[j+1]]`), or `undefined` to keep it. */
  readonly store: (j: number) => number | undefined;
}

/**
 * The forward pass through the hidden layers, one block per dense j < L: zⱼ = aⱼ·Kⱼ + bⱼ (bias, then inputs
 * 0, 1, … in order) into `z`, aⱼ₊₁ = φ(zⱼ) into `bufs[(j + 1) % 2]` (a_L ends in `bufs[L % 2]`).
 */
export function mlpRowForward(layout: MlpLayout, threads: number, opt: RowForwardOptions): string[] {
  const { widths, wOff, bOff, act } = layout;
  const { zOff } = hiddenOffsets(widths);
  const L = widths.length - 2;
  const code: string[] = [];
  for (let j = 0; j < L; j++) {
    const nIn = widths[j]!;
    const nOut = widths[j + 1]!;
    code.push(`  for (var o = tid; o < ${nOut}; o += ${threads}) {
    var z = P[${bOff[j]} + o];
    for (var i = 0; i < ${nIn}; i++) {
      z += ${opt.bufs[j % 2]}[i] * P[${wOff[j]} + i * ${nOut} + o];
    }
    ${opt.z}[${zOff[j]} + o] = z;
    let act = ebmAct${act[j]}(z);
    ${opt.bufs[(j + 1) % 2]}[o] = act;${store(opt.store(j), nOut, 'o', 'act')}
  }
  workgroupBarrier();`);
  }
  return code;
}

/** Options of {@link mlpRowBackward}. */
export interface RowBackwardOptions {
  /** The two alternating workgroup buffers. */
  readonly bufs: readonly [string, string];
  /** Index in `bufs` of the buffer the top adjoint (layer L − 1) goes to. */
  readonly first: 0 | 1;
  /** The workgroup array of every hidden zⱼ (as the forward pass wrote it). */
  readonly z: string;
  /** Offset in `result` to write the adjoint of layer j at (`[rows, widths[j+1]]`), or `undefined`. */
  readonly store: (j: number) => number | undefined;
  /** A WGSL factor of the top adjoint (the contrastive step's ∂L/∂E of the row, `c`). */
  readonly scale?: string;
  /** A workgroup array (of every hidden unit) to keep sⱼ = Kⱼ·δⱼ in, for a `second` pass. */
  readonly keepS?: string;
  /** The forward-over-reverse adjoint z̄ instead of δ: reads sⱼ from `s` and żⱼ from `zd`. */
  readonly second?: { readonly s: string; readonly zd: string };
}

/**
 * The backward pass from the output layer to the first hidden layer, one block per hidden layer: δ (or z̄ with
 * `second`, see the module docs) of layer L − 1 into `bufs[first]`, then layer j − 1 from layer j, alternating
 * buffers. Returns the blocks and the index in `bufs` of the buffer holding layer 0's adjoint.
 */
export function mlpRowBackward(
  layout: MlpLayout,
  threads: number,
  opt: RowBackwardOptions,
): { code: string[]; last: 0 | 1 } {
  const { widths, wOff, act } = layout;
  const { zOff } = hiddenOffsets(widths);
  const L = widths.length - 2;
  const T = threads;
  const Z = opt.z;
  const v = opt.second ? 'zb' : 'dl';
  let cur = opt.first;
  const code: string[] = [];
  const top = opt.second
    ? `let q = ${zOff[L - 1]} + i;
    let zb = P[${wOff[L]} + i] * ebmActGrad2${act[L - 1]}(${Z}[q]) * ${opt.second.zd}[q];`
    : `let dl = P[${wOff[L]} + i]${opt.scale ? ` * ${opt.scale}` : ''} * ebmActGrad${act[L - 1]}(${Z}[${zOff[L - 1]} + i]);`;
  code.push(`  for (var i = tid; i < ${widths[L]}; i += ${T}) {
    ${top}
    ${opt.bufs[cur]}[i] = ${v};${store(opt.store(L - 1), widths[L]!, 'i', v)}
  }
  workgroupBarrier();`);
  for (let j = L - 1; j >= 1; j--) {
    const nIn = widths[j]!; // units of z_{j−1}
    const nOut = widths[j + 1]!; // units of z_j
    const next = (1 - cur) as 0 | 1;
    const unit = opt.second
      ? `let q = ${zOff[j - 1]} + i;
    let z = ${Z}[q];
    let zb = s * ebmActGrad${act[j - 1]}(z) + ${opt.second.s}[q] * ebmActGrad2${act[j - 1]}(z) * ${opt.second.zd}[q];`
      : `${opt.keepS ? `${opt.keepS}[${zOff[j - 1]} + i] = s;\n    ` : ''}let dl = s * ebmActGrad${act[j - 1]}(${Z}[${zOff[j - 1]} + i]);`;
    code.push(`  for (var i = tid; i < ${nIn}; i += ${T}) {
    var s = 0.0;
    for (var o = 0; o < ${nOut}; o++) {
      s += P[${wOff[j]} + i * ${nOut} + o] * ${opt.bufs[cur]}[o];
    }
    ${unit}
    ${opt.bufs[next]}[i] = ${v};${store(opt.store(j - 1), nIn, 'i', v)}
  }
  workgroupBarrier();`);
    cur = next;
  }
  return { code, last: cur };
}
