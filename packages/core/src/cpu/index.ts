/**
 * The CPU path of `@ebm/core`: fused kernels for the host backends (`cpu`, `wasm`), the chain worker pool and
 * the backend recommendation. See each module.
 * @module
 */
export {
  type BackendChoice,
  chooseBackend,
  type RecommendBackendOptions,
  recommendBackend,
} from './choose-backend.js';
export {
  type AcceptCounts,
  HOST_CHAIN_METHODS,
  type HostChainSpec,
  runChainHost,
  TILE_ROWS,
} from './host-chain.js';
export { HOST_ENERGY_KINDS, type HostEnergy, hasHostEnergy, makeHostEnergy } from './host-energies.js';
export {
  CPU_CHAIN_KINDS,
  CPU_KERNEL_NAMES,
  type HostChainKernelInputs,
  langevinStepHost,
  makeHostChainKernel,
  makeHostChainTraceKernel,
  registerCpuKernels,
} from './kernels.js';
export { MLP_ACTIVATIONS, MLP_KIND, mlpUsesSimd } from './mlp.js';
export {
  availableCores,
  chainWorkerCount,
  type ParallelChainOptions,
  type ParallelChainResult,
  type ParallelChainTimings,
  type ParallelNormalX0,
  runChainParallel,
  terminateChainWorkers,
} from './pool.js';
