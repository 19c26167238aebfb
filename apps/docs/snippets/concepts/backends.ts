// Choosing a backend in Node: wasm is the fastest stock tfjs backend here (3–10× cpu); WebGPU runs through
// Dawn (`setupWebGpu()` from @ebm/cuda, on a GPU or on Mesa's CPU Vulkan). The draws are the same on each.
import '@tensorflow/tfjs-backend-wasm'; // registers 'wasm'
import { activeBackend, disposeSampleResult, useBackend } from '@ebm/core';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';

const energy = new DoubleWell();
const sampler = new LangevinDynamics(energy, { stepSize: 0.01 });
const times: Record<string, number> = {};
for (const name of ['cpu', 'wasm']) {
  await useBackend(name); // throws BACKEND_UNAVAILABLE with the fix when it cannot start
  const t0 = performance.now();
  const run = await sampler.sample({ nSamples: 1024, dim: 8, nSteps: 50, seed: 0 });
  await run.samples.data();
  times[activeBackend()] = performance.now() - t0;
  disposeSampleResult(run);
}
await useBackend('cpu');
console.log(times); // ms per run on each backend
energy.dispose();

export const result = { times };
