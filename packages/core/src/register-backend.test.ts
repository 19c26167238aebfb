import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { isEbmError } from './errors.js';
import { NO_BACKEND, registerDefaultCpu } from './register-backend.js';
import './register.js';

const missing = () => {
  throw Object.assign(new Error("Cannot find module '@tensorflow/tfjs-backend-cpu'"), {
    code: 'MODULE_NOT_FOUND',
  });
};

describe('the cpu backend is an optional peer', () => {
  afterEach(() => {
    if (tf.findBackendFactory(NO_BACKEND)) tf.removeBackend(NO_BACKEND);
  });

  it('Node registers cpu as the default backend when it is installed', async () => {
    await tf.ready();
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.findBackendFactory(NO_BACKEND)).toBeNull();
  });

  it('without it, registers a lowest-priority hint backend that fails with BACKEND_UNAVAILABLE and a fix', () => {
    expect(registerDefaultCpu(missing)).toBe(false);
    const factory = tf.findBackendFactory(NO_BACKEND);
    expect(factory).not.toBeNull();
    let err: unknown;
    try {
      factory!();
    } catch (e) {
      err = e;
    }
    expect(isEbmError(err) && err.code).toBe('BACKEND_UNAVAILABLE');
    expect(String((err as Error).message)).toMatch(/tfjs-backend-cpu/);
    // the hint never wins over a real backend
    expect(tf.getBackend()).toBe('cpu');
  });

  it('the hint is not offered by useBackend, and other load errors propagate', async () => {
    registerDefaultCpu(missing);
    await expect(useBackend(NO_BACKEND)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(() =>
      registerDefaultCpu(() => {
        throw new SyntaxError('broken install');
      }),
    ).toThrow('broken install');
    expect(registerDefaultCpu(() => undefined)).toBe(true);
  });
});
