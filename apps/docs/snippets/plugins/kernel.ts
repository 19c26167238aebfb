// A kernel for a backend: samplers call named kernels (langevinStep, leapfrogStep, metropolisAccept,
// randomNormal, chain.<energy kind>) through @ebm/core's registry, which runs the implementation registered for
// the active tfjs backend, else the composite fallback. Register one for a backend; the samplers pick it up.
import {
  disposeSampleResult,
  kernelSource,
  type LangevinStepInputs,
  langevinStepComposite,
  registerKernelImpl,
} from '@ebm/core';
import { energyFromFunction } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';

let calls = 0;
/** x − h∇E + σ√(2h)ξ on the 'cpu' backend: kernels take data (tensors and numbers), never callbacks. */
function langevinStepCpu(inputs: LangevinStepInputs): tf.Tensor2D {
  calls++;
  return langevinStepComposite(inputs); // a real plugin fuses this (a WGSL shader, a wasm loop, …)
}

// override: core may already register a fused cpu step; the returned function restores the previous state
const unregister = registerKernelImpl('langevinStep', 'cpu', langevinStepCpu, { override: true });
try {
  console.log(kernelSource('langevinStep', 'cpu')); // 'backend'
  // An energy without a kernelHint has no whole-chain kernel: the steps run one by one. (Energies with a hint, such
  // as the analytic ones and MLPEnergy, run whole chains through the backend's chain.<kind> kernel instead.)
  const energy = energyFromFunction((x) => tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D, { dim: 2 });
  const run = await new LangevinDynamics(energy, { stepSize: 0.01 }).sample({
    nSamples: 16,
    dim: 2,
    nSteps: 10,
  });
  disposeSampleResult(run);
} finally {
  unregister();
}
console.log(`langevinStep ran ${calls} times through the plugin`);

export const result = { calls };
