import { EbmError, isRngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Program } from './chain-programs.js';

/**
 * Running WGSL programs on tfjs's `webgpu` backend through its own program runner (`runWebGPUProgram`), so
 * outputs are ordinary webgpu tensors. Internal module.
 * @module
 */

/** The tfjs backend name the fused kernels are registered for. */
export const WEBGPU_BACKEND = 'webgpu';

/** Uniform values of a program, in the order of its `uniforms` declaration. */
export type ProgramUniform = { type: 'float32' | 'int32' | 'uint32'; data: number[] }[];

/** The subset of `WebGPUBackend` used here (kept local: the webgpu backend is an optional peer). */
interface WebGpuBackendLike {
  runWebGPUProgram(
    program: Program,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: ProgramUniform,
  ): tf.TensorInfo;
}

/** Workgroup size of the elementwise programs. */
export const WORKGROUP = 64;

function webgpuBackend(): WebGpuBackendLike {
  const b = tf.backend() as unknown as Partial<WebGpuBackendLike>;
  if (tf.getBackend() !== WEBGPU_BACKEND || typeof b.runWebGPUProgram !== 'function') {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      'The fused WGSL kernels need the active tfjs backend "webgpu".',
      {
        argument: 'backend',
        value: tf.getBackend(),
        fix: "call setupWebGpu() (or tf.setBackend('webgpu')) first; other backends use core's composite kernels.",
      },
    );
  }
  return b as WebGpuBackendLike;
}

/** Runs `program` on the active webgpu backend; the output is a new tensor the caller owns. */
export function run(
  program: Program,
  inputs: tf.Tensor[],
  dtype: tf.DataType,
  uniforms: ProgramUniform,
): tf.Tensor {
  const info = webgpuBackend().runWebGPUProgram(program, inputs, dtype, uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Validates an RNG key. */
export function checkKey(key: unknown): readonly [number, number] {
  if (!isRngKey(key)) {
    throw new EbmError('INVALID_PARAM', 'key must be an RngKey: two integers in [0, 2^32).', {
      argument: 'key',
      value: key,
      fix: 'make keys with rngKey(seed), foldIn(key, n) or splitKey(key, n) from @ebm/core.',
    });
  }
  return key;
}

/** Number of elements of `shape`, validated (non-negative integers, < 2^31 in all). */
export function sizeOf(shape: readonly number[], argument: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new EbmError('INVALID_PARAM', 'shape must hold non-negative integers.', {
        argument,
        value: shape,
        fix: 'pass a shape such as [nChains, dim].',
      });
    }
    n *= d;
  }
  if (n >= 2 ** 31) {
    throw new EbmError('INVALID_PARAM', 'A GPU random tensor must have fewer than 2^31 elements.', {
      argument,
      value: shape,
      fix: 'draw it in several smaller pieces.',
    });
  }
  return n;
}

/** The active webgpu device's workgroup-memory limit in bytes (16384, WebGPU's default, when unknown). */
export function workgroupStorageLimit(): number {
  const dev = (
    tf.backend() as unknown as { device?: { limits?: { maxComputeWorkgroupStorageSize?: number } } }
  ).device;
  const v = dev?.limits?.maxComputeWorkgroupStorageSize;
  return typeof v === 'number' && v > 0 ? v : 16384;
}

/** True when the active webgpu adapter is a CPU implementation (lavapipe, SwiftShader, WARP). */
export function softwareAdapter(): boolean {
  const info = (tf.backend() as unknown as { adapterInfo?: Record<string, unknown> }).adapterInfo ?? {};
  return [info.vendor, info.architecture, info.device, info.description].some(
    (f) =>
      typeof f === 'string' &&
      /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|microsoft basic render|software/i.test(f),
  );
}
