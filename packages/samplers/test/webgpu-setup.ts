// Must run before @tensorflow/tfjs-backend-webgpu is evaluated: it registers only when navigator.gpu exists.
// (@ebm/cuda's setupWebGpu does the same, but @ebm/cuda depends on this package for its own tests.)
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
process.env.XDG_RUNTIME_DIR ??= '/tmp';
(globalThis as unknown as { navigator: unknown }).navigator = { gpu: create([]) };
