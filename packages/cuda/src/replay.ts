import {
  checkReplayDrawInputs,
  checkReplayWriteInputs,
  type ReplayDrawInputs,
  type ReplayWriteInputs,
  replayDrawComposite,
  replayReinitThreshold,
  replayWriteComposite,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { run, WORKGROUP } from './backend.js';
import { flatDispatch, type Program } from './chain-programs.js';
import { NORMAL_WGSL, PHILOX_WGSL, UNIFORM_WGSL } from './wgsl.js';

/**
 * The replay-buffer kernels of PCD on WebGPU (`replay.draw`, `replay.write` of `@ebm/core`), one WGSL program each:
 * a training step's buffer work is two dispatches and no upload, where the composite runs ~14 small tfjs ops and
 * uploads the row indices and the re-initialisation mask. Internal module.
 * @module
 */

/** True while tfjs records a gradient tape (the programs have no gradient: the composite runs instead). */
function recordingGradients(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}

/** The draw program: one thread per output element (r, d). */
function drawProgram(noise: 'uniform' | 'normal', n: number, dim: number): Program {
  const size = n * dim;
  const z = noise === 'normal' ? 'ebmBitsToNormal(wn)' : '(ebmBitsToUniform(wn) * 2.0 - 1.0)';
  return {
    outputShape: [n, dim],
    shaderKey: `ebm_replay_draw_${noise}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: flatDispatch(Math.ceil(size / WORKGROUP)),
    variableNames: ['Buf'],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms:
      'i0 : u32, i1 : u32, m0 : u32, m1 : u32, n0 : u32, n1 : u32, rows : u32, span : u32, stratified : u32, thr : u32, dim : i32, scale : f32, mean : f32,',
    getUserCode: () => `
${PHILOX_WGSL}
${noise === 'normal' ? NORMAL_WGSL : UNIFORM_WGSL}
fn main(index : i32) {
  if (index < uniforms.size) {
    let r = u32(index / uniforms.dim);
    let d = index - i32(r) * uniforms.dim;
    let block = vec4<u32>(r >> 2u, 0u, 0u, 0u);
    let lane = r & 3u;
    let wm = ebmPhilox(block, vec2<u32>(uniforms.m0, uniforms.m1))[lane];
    if ((wm >> 9u) < uniforms.thr) {
      let e = u32(index);
      let wn = ebmPhilox(vec4<u32>(e >> 2u, 0u, 0u, 0u), vec2<u32>(uniforms.n0, uniforms.n1))[e & 3u];
      let z = ${z};
      result[index] = z * uniforms.scale + uniforms.mean;
    } else {
      let wi = ebmPhilox(block, vec2<u32>(uniforms.i0, uniforms.i1))[lane];
      // floor(u·span) with u = (2a + 1)·2⁻²⁴ exactly: the 64-bit product (2a + 1)·span shifted right by 24.
      let p = ebmMulHiLo(2u * (wi >> 9u) + 1u, uniforms.span);
      let f = (p.x << 8u) | (p.y >> 24u);
      var j : u32;
      if (uniforms.stratified == 1u) {
        j = r * uniforms.span + min(uniforms.span - 1u, f);
      } else {
        j = min(uniforms.rows - 1u, f);
      }
      result[index] = Buf[i32(j) * uniforms.dim + d];
    }
  }
}
`,
  };
}

/**
 * `replay.draw` on WebGPU: one program recomputes the draw's plan from the key on the device — the stratified row
 * jᵢ from the index key's Philox word (⌊uᵢ·s⌋ as an exact 64-bit integer product, as the host's float64 product
 * for s < 2²⁹), the re-initialisation test ⌊w/2⁹⌋ < T (`replayReinitThreshold`), and for re-initialised rows the
 * noise word of element (i, d) (`ebmBitsToUniform` / `ebmBitsToNormal`, the streams of `randomUniform` /
 * `randomNormal`) — and gathers the other rows: no upload, one dispatch. Equal to the composite: buffer rows
 * bit for bit; uniform noise bit for bit when the device does not contract `z·scale + mean` into a fused
 * multiply-add (else within 1 ulp; exact for scale 1, mean 0); normal noise within the 1e-5 of `randomNormal`
 * on the host (bit for bit against the webgpu composite, up to the same contraction). Unlike the composite's
 * mask blend (fresh·m + picked·(1 − m)), a non-finite buffer row does not leak into a re-initialised row.
 * Inputs it does not cover (non-float32 buffer, inside a gradient tape) run the composite.
 */
export function replayDrawWebGpu(inputs: ReplayDrawInputs): tf.Tensor2D {
  checkReplayDrawInputs(inputs);
  const { buffer, n, key, reinitProbability, noise } = inputs;
  const [cap, dim] = buffer.shape;
  if (buffer.dtype !== 'float32' || dim === 0 || n * dim >= 2 ** 31 || recordingGradients())
    return replayDrawComposite(inputs);
  const [kIdx, kMask, kNoise] = splitKey(key, 3);
  const stratified = cap >= n;
  const span = stratified ? Math.floor(cap / n) : cap;
  const u = (v: number) => ({ type: 'uint32' as const, data: [v >>> 0] });
  return run(drawProgram(noise.kind, n, dim), [buffer], 'float32', [
    u(kIdx![0]),
    u(kIdx![1]),
    u(kMask![0]),
    u(kMask![1]),
    u(kNoise![0]),
    u(kNoise![1]),
    u(cap),
    u(span),
    u(stratified ? 1 : 0),
    u(replayReinitThreshold(reinitProbability)),
    { type: 'int32', data: [dim] },
    { type: 'float32', data: [noise.scale] },
    { type: 'float32', data: [noise.mean] },
  ]) as tf.Tensor2D;
}

/** The ring-write program: one thread per element (j, d) of the new buffer. */
function writeProgram(cap: number, dim: number): Program {
  const size = cap * dim;
  return {
    outputShape: [cap, dim],
    shaderKey: 'ebm_replay_write',
    dispatchLayout: { x: [0, 1] },
    dispatch: flatDispatch(Math.ceil(size / WORKGROUP)),
    variableNames: ['Buf', 'X'],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'cap : i32, dim : i32, ptr : i32, count : i32, offset : i32,',
    getUserCode: () => `
fn main(index : i32) {
  if (index < uniforms.size) {
    let j = index / uniforms.dim;
    let d = index - j * uniforms.dim;
    let k = (j - uniforms.ptr + uniforms.cap) % uniforms.cap;
    if (k < uniforms.count) {
      result[index] = X[(k + uniforms.offset) * uniforms.dim + d];
    } else {
      result[index] = Buf[index];
    }
  }
}
`,
  };
}

/**
 * `replay.write` on WebGPU: the FIFO ring write in one program — row j of the new `[C, D]` buffer is
 * x[(j − q) mod C + o] when (j − q) mod C < min(B, C), else the old row j (q = pointer, o = 0 for B < C; for
 * B ≥ C, q = 0 and o = B − C: the last C rows). Copies, so equal to the composite bit for bit.
 * Inputs it does not cover (non-float32, inside a gradient tape) run the composite.
 */
export function replayWriteWebGpu(inputs: ReplayWriteInputs): tf.Tensor2D {
  checkReplayWriteInputs(inputs);
  const { buffer, rows, pointer } = inputs;
  const [cap, dim] = buffer.shape;
  const b = rows.shape[0];
  if (
    buffer.dtype !== 'float32' ||
    rows.dtype !== 'float32' ||
    dim === 0 ||
    b === 0 ||
    cap * dim >= 2 ** 31 ||
    recordingGradients()
  )
    return replayWriteComposite(inputs);
  const full = b >= cap;
  const i = (v: number) => ({ type: 'int32' as const, data: [v] });
  return run(writeProgram(cap, dim), [buffer, rows], 'float32', [
    i(cap),
    i(dim),
    i(full ? 0 : pointer),
    i(Math.min(b, cap)),
    i(full ? b - cap : 0),
  ]) as tf.Tensor2D;
}
