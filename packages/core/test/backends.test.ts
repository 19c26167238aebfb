import '@tensorflow/tfjs-backend-wasm';
import { describe, it } from 'vitest';
import { runBackendSuite } from './backend-suite.js';

describe('core on every Node backend', () => {
  it('cpu', async () => {
    await runBackendSuite('cpu');
  });
  it('wasm', async () => {
    await runBackendSuite('wasm');
  });
});
