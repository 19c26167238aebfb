// The set-up the training sections of gpu-compare.mjs share (`trainfused` there, `emflow` in flow-sections.mjs;
// bundled with them): the WebGPU backend with @ebm/cuda's kernels, TorchEBM's two-moons data, the batch / step /
// warm-up counts, and the fused training kernel looked up once (its implementation, so a section can unregister it
// for the autograd rows and put it back).
import { getKernelImpl } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
// @ebm/cuda cannot depend on @ebm/datasets (it depends on @ebm/cuda for its tests): its built dist, by path.
import { twoMoons } from '../../datasets/dist/index.js';

const N_MOONS = 3000;

/**
 * Two moons (n = 3000, noise 0.05, seed 0) as a [3000, 2] tensor on the WebGPU backend, and the training sizes:
 * batch 64 (`--small`) or 256, `warm` untimed steps (2 or 5), `steps` timed ones (`--reps`, else 6 or `fullSteps`).
 * `kernelName`: the fused kernel the section compares against autograd (`kernel`: its webgpu implementation, or
 * undefined where none is registered). `dataMeta`: the last fields of the section's rows (data, adapter, fusedKernel).
 * The caller disposes `data`.
 *
 * @param {{ gpu: () => Promise<unknown>, watchDevice: () => void, small: boolean, repsArg?: number }} ctx
 * @param {{ kernelName: string, fullSteps: number }} opts
 */
export async function twoMoonsTraining({ gpu, watchDevice, small, repsArg }, { kernelName, fullSteps }) {
  await gpu();
  watchDevice();
  const B = small ? 64 : 256;
  const steps = repsArg ?? (small ? 6 : fullSteps);
  const warm = small ? 2 : 5;
  const moons = twoMoons({ nSamples: N_MOONS, noise: 0.05, seed: 0 });
  const data = tf.tensor2d(Float32Array.from(moons.data), [N_MOONS, 2]);
  const adapter = tf.backend().adapterInfo ?? {};
  const kernel = getKernelImpl(kernelName, 'webgpu');
  const dataMeta = {
    data: `twoMoons n=${N_MOONS} noise=0.05`,
    adapter: adapter.description ?? adapter.vendor,
    fusedKernel: kernel !== undefined,
  };
  return { B, steps, warm, data, kernel, dataMeta };
}
