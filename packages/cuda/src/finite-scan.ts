import { EbmError, type NonFiniteRowsInputs, type NonFiniteRowsOutput } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { run } from './backend.js';
import { flatDispatch, type Program } from './chain-programs.js';

/**
 * `nonFiniteRows` of `@ebm/core` on WebGPU: the number of rows of a `[B, D]` float32 tensor holding NaN or
 * ±Infinity in one dispatch, where the composite runs five tfjs ops (isFinite, all, logicalNot, cast, sum; a
 * `tf.sum` of [2²⁰, 32] alone takes 26.5 ms on tfjs-webgpu on an H200). The whole chain's end-of-run check of a
 * large state (see core's `loop.ts`) reads only these counts. Internal module.
 *
 * Workgroup g (256 threads) owns R consecutive whole rows (R = 2^⌊log₂(8192 / D)⌋ clamped to [1, 256], so a
 * workgroup reads about 8192 elements): its threads stride over the R·D elements (coalesced), flag the row of
 * each non-finite one in workgroup memory (float32 w is non-finite iff its exponent bits are all ones,
 * (w & 0x7f800000) = 0x7f800000: a bit test no fast-math rewrite can drop), then count the flagged rows and
 * write the count to output element g. Output: ⌈B / R⌉ int32 counts (16 KiB for 2²⁰ × 32), summed on the host.
 * @module
 */

/** Threads per workgroup. */
const SCAN_WG = 256;
/** About this many elements per workgroup. */
const SCAN_ELEMENTS = 8192;

/** Rows per workgroup for rows of `d` elements: a power of two in [1, 256]. */
export function scanRowsPerGroup(d: number): number {
  let r = 1;
  while (r < SCAN_WG && r * 2 * d <= SCAN_ELEMENTS) r *= 2;
  return r;
}

function scanProgram(b: number, d: number): Program {
  const rows = scanRowsPerGroup(d);
  const groups = Math.ceil(b / rows);
  return {
    outputShape: [groups],
    shaderKey: `ebm_nonfinite_rows_R${rows}`,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(groups),
    variableNames: ['X'],
    workgroupSize: [SCAN_WG, 1, 1],
    size: true,
    uniforms: 'b : u32, d : u32,',
    getUserCode: () => `
var<workgroup> ebmRowBad : array<atomic<u32>, ${rows}>;
var<workgroup> ebmCount : atomic<u32>;
fn main(index : i32) {
  let lid = localIndex;
  for (var r = lid; r < ${rows}u; r += ${SCAN_WG}u) {
    atomicStore(&ebmRowBad[r], 0u);
  }
  if (lid == 0u) {
    atomicStore(&ebmCount, 0u);
  }
  workgroupBarrier();
  let g = workgroupId.y * numWorkgroups.x + workgroupId.x;
  let row0 = g * ${rows}u;
  var rows = 0u;
  if (row0 < uniforms.b) {
    rows = min(${rows}u, uniforms.b - row0);
  }
  let n = rows * uniforms.d;
  let base = row0 * uniforms.d;
  for (var e = lid; e < n; e += ${SCAN_WG}u) {
    if ((bitcast<u32>(X[base + e]) & 0x7f800000u) == 0x7f800000u) {
      atomicOr(&ebmRowBad[e / uniforms.d], 1u);
    }
  }
  workgroupBarrier();
  for (var r = lid; r < rows; r += ${SCAN_WG}u) {
    if (atomicLoad(&ebmRowBad[r]) != 0u) {
      atomicAdd(&ebmCount, 1u);
    }
  }
  workgroupBarrier();
  if (lid == 0u && i32(g) < uniforms.size) {
    result[g] = i32(atomicLoad(&ebmCount));
  }
}
`,
  };
}

/**
 * `nonFiniteRows` on WebGPU (see the module docs): validates x (`INVALID_PARAM` for anything but a live float32
 * `[B, D]` tensor), then one dispatch; an empty x gives `[0]`.
 */
export function nonFiniteRowsWebGpu(inputs: NonFiniteRowsInputs): NonFiniteRowsOutput {
  const x = (inputs as Partial<NonFiniteRowsInputs> | null)?.x;
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank !== 2 || x.dtype !== 'float32') {
    throw new EbmError('INVALID_PARAM', 'nonFiniteRows: x must be a live float32 [B, D] tensor.', {
      argument: 'x',
      value:
        x instanceof tf.Tensor
          ? x.isDisposed
            ? 'disposed'
            : `${x.dtype} [${x.shape.join(', ')}]`
          : typeof x,
      fix: 'pass the rows to check as a [B, D] float32 tensor.',
    });
  }
  const [b, d] = x.shape as [number, number];
  if (b === 0 || d === 0) return tf.zeros([1], 'int32');
  return run(scanProgram(b, d), [x], 'int32', [
    { type: 'uint32', data: [b] },
    { type: 'uint32', data: [d] },
  ]) as tf.Tensor1D;
}
