import type { Program } from './chain-programs.js';
import { flatDispatch } from './chain-programs.js';
import type { MlpLayout } from './mlp-energy.js';
import { NORMAL_WGSL, PHILOX_WGSL } from './wgsl.js';

/**
 * Whole-chain Euler–Maruyama Langevin for an MLP energy with a workgroup per `C` chains: its `T` threads split
 * each layer's units, so a weight read from memory serves `C` chains, and activations live in workgroup memory
 * instead of per-thread arrays. Per step: forward through the hidden layers (zⱼ and φ'(zⱼ) kept in shared
 * memory), the input gradient by the chain rule backwards (δ_{L−1} = w_out ⊙ φ'(z_{L−1}),
 * δⱼ₋₁ = (Wⱼ·δⱼ) ⊙ φ'(zⱼ₋₁), ∇ₓE = W₀·δ₀), then x ← x − h∇E + σ√(2h)ξ with ξ from Philox in core's layout (thread
 * q owns the four consecutive elements of block q of the workgroup's rows). Two buffers alternate; 2L + 2
 * barriers per step. Inputs `X` (states), `K` (step keys, 2 words per step), `P` (flat weights). Internal module.
 * @module
 */

/** Threads per workgroup of the cooperative program. */
export const COOP_THREADS = 64;

/** Floats of workgroup memory the program needs for `c` chains per workgroup. */
export function coopSharedFloats(layout: MlpLayout, c: number): number {
  const { widths } = layout;
  const hidden = widths.slice(1, -1);
  const mw = Math.max(widths[0]!, ...hidden);
  return c * (2 * mw + hidden.reduce((a, b) => a + b, 0));
}

/**
 * Chains per workgroup: the largest of 16, 8, 4 whose workgroup memory fits `limitBytes`, or `undefined` (then the
 * one-thread-per-chain program runs). A multiple of 4 keeps every workgroup's rows aligned to Philox blocks.
 */
export function coopChains(layout: MlpLayout, limitBytes: number): number | undefined {
  for (const c of [16, 8, 4]) if (4 * coopSharedFloats(layout, c) <= limitBytes) return c;
  return undefined;
}

/** The cooperative MLP Langevin program for `b` chains of dimension `d`, `c` chains per workgroup. */
export function mlpLangevinProgram(layout: MlpLayout, b: number, d: number, c: number): Program {
  const { widths, wOff, bOff, actCode, key } = layout;
  const L = widths.length - 2; // hidden layers
  const hidden = widths.slice(1, -1);
  const mw = Math.max(d, ...hidden);
  const T = COOP_THREADS;
  const quads = Math.ceil((c * d) / 4 / T); // Philox blocks per thread
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
    forward.push(`    for (var u = tid; u < ${nOut}; u += ${T}) {
      var a : array<f32, ${c}>;
      let bias = P[${bOff[j]} + u];
      for (var cc = 0; cc < ${c}; cc++) {
        a[cc] = bias;
      }
      for (var i = 0; i < ${nIn}; i++) {
        let w = P[${wOff[j]} + i * ${nOut} + u];
        for (var cc = 0; cc < ${c}; cc++) {
          a[cc] += ${src}[cc * ${mw} + i] * w;
        }
      }
      for (var cc = 0; cc < ${c}; cc++) {
        ${dst}[cc * ${mw} + u] = ebmAct(a[cc]);
        ebmDp[${dpOff[j]} + cc * ${nOut} + u] = ebmActGrad(a[cc]);
      }
    }
    workgroupBarrier();`);
  }
  // Output layer: δ_{L−1} = w_out ⊙ φ'(z_{L−1}), written over h_{L−1} (each thread its own units).
  const last = L - 1;
  const nLast = widths[L]!;
  const output = `    for (var u = tid; u < ${nLast}; u += ${T}) {
      let w = P[${wOff[L]} + u];
      for (var cc = 0; cc < ${c}; cc++) {
        ${buf(last)}[cc * ${mw} + u] = w * ebmDp[${dpOff[last]} + cc * ${nLast} + u];
      }
    }
    workgroupBarrier();`;
  // Backward: δ_{j−1} = (W_j · δ_j) ⊙ φ'(z_{j−1}), δ_j in buf(j), written to buf(j − 1).
  const backward: string[] = [];
  for (let j = last; j >= 1; j--) {
    const nIn = widths[j]!; // units of z_{j−1}
    const nOut = widths[j + 1]!; // units of z_j
    backward.push(`    for (var i = tid; i < ${nIn}; i += ${T}) {
      var s : array<f32, ${c}>;
      for (var cc = 0; cc < ${c}; cc++) {
        s[cc] = 0.0;
      }
      for (var u = 0; u < ${nOut}; u++) {
        let w = P[${wOff[j]} + i * ${nOut} + u];
        for (var cc = 0; cc < ${c}; cc++) {
          s[cc] += w * ${buf(j)}[cc * ${mw} + u];
        }
      }
      for (var cc = 0; cc < ${c}; cc++) {
        ${buf(j - 1)}[cc * ${mw} + i] = s[cc] * ebmDp[${dpOff[j - 1]} + cc * ${nIn} + i];
      }
    }
    workgroupBarrier();`);
  }
  const n1 = widths[1]!;
  return {
    outputShape: [b, d],
    shaderKey: `ebm_mlp_coop_langevin_${key}_D${d}_C${c}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: flatDispatch(Math.ceil(b / c)),
    variableNames: ['X', 'K', 'P'],
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
  var xr : array<vec4<f32>, ${quads}>;
  for (var qi = 0; qi < ${quads}; qi++) {
    let q = tid + qi * ${T};
    for (var l = 0; l < 4; l++) {
      let e = 4 * q + l;
      let chain = c0 + e / ${d};
      if (e < ${c * d} && chain < uniforms.nChains) {
        xr[qi][l] = X[c0 * ${d} + e];
      }
    }
  }
  for (var t = 0; t < uniforms.nSteps; t++) {
    let s2 = 2 * (uniforms.stepOffset + t);
    let key = vec2<u32>(bitcast<u32>(K[s2]), bitcast<u32>(K[s2 + 1]));
    for (var qi = 0; qi < ${quads}; qi++) {
      let q = tid + qi * ${T};
      for (var l = 0; l < 4; l++) {
        let e = 4 * q + l;
        if (e < ${c * d}) {
          ebmB[(e / ${d}) * ${mw} + e % ${d}] = xr[qi][l];
        }
      }
    }
    workgroupBarrier();
${forward.join('\n')}
${output}
${backward.join('\n')}
    for (var qi = 0; qi < ${quads}; qi++) {
      let q = tid + qi * ${T};
      if (4 * q < ${c * d}) {
        let w = ebmPhilox(vec4<u32>(u32((c0 * ${d}) / 4 + q), 0u, 0u, 0u), key);
        for (var l = 0; l < 4; l++) {
          let e = 4 * q + l;
          if (e < ${c * d}) {
            let cc = e / ${d};
            let k = e % ${d};
            var g = 0.0;
            for (var u = 0; u < ${n1}; u++) {
              g += P[${wOff[0]} + k * ${n1} + u] * ebmA[cc * ${mw} + u];
            }
            xr[qi][l] = xr[qi][l] - uniforms.h * g + uniforms.amp * ebmBitsToNormal(w[l]);
          }
        }
      }
    }
    workgroupBarrier();
  }
  for (var qi = 0; qi < ${quads}; qi++) {
    let q = tid + qi * ${T};
    for (var l = 0; l < 4; l++) {
      let e = 4 * q + l;
      let chain = c0 + e / ${d};
      if (e < ${c * d} && chain < uniforms.nChains) {
        result[c0 * ${d} + e] = xr[qi][l];
      }
    }
  }
}
`,
  };
}
