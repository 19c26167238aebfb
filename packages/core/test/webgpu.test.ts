import './webgpu-setup.js';
import { describe, expect, it } from 'vitest';
import { runBackendConformance } from '../src/testing/index.js';

const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } })
  .navigator.gpu;
const adapter = await gpu.requestAdapter();
if (adapter === null) {
  console.warn(
    '[ebm] webgpu tests skipped: no WebGPU adapter (install mesa-vulkan-drivers from bookworm-backports).',
  );
}
const mustRun = process.env.EBM_TEST_WEBGPU === '1';

describe('core on webgpu (Dawn; lavapipe on CPU-only machines)', () => {
  it('an adapter exists when EBM_TEST_WEBGPU=1', () => {
    if (mustRun) expect(adapter).not.toBeNull();
  });
  it.skipIf(adapter === null)('runs the backend suite', async () => {
    await import('@tensorflow/tfjs-backend-webgpu');
    await runBackendConformance('webgpu');
  });
});
