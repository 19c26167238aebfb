import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { registerKernelImpl, useBackend } from '../src/index.js';
import { runBackendConformance } from '../src/testing/index.js';

describe('core on every Node backend (the conformance suite of @ebm/core/testing)', () => {
  afterEach(async () => {
    await useBackend('cpu');
  });
  it('cpu', async () => {
    const checks = await runBackendConformance('cpu');
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.length).toBeGreaterThanOrEqual(8);
  });
  it('wasm', async () => {
    await runBackendConformance('wasm');
  });
  it('fails, naming the check, when a registered kernel is wrong', async () => {
    const undo = registerKernelImpl(
      'langevinStep',
      'cpu',
      ({ x }) => tf.clone(x), // forgets the drift and the noise
      { override: true },
    );
    try {
      await expect(runBackendConformance('cpu')).rejects.toThrow(/TEST_FAILURE.*langevinStep/);
    } finally {
      undo();
    }
  });
  it('fails with a clear error for a backend that is not registered', async () => {
    await expect(runBackendConformance('no-such-backend')).rejects.toThrow(/BACKEND_UNAVAILABLE/);
  });
});
