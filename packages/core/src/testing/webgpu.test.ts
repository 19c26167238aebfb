import { afterEach, describe, expect, it, vi } from 'vitest';
import { isEbmError } from '../errors.js';
import { expectEbmErrorAsync } from './errors.js';
import { webGpuForTests, webGpuTestsRequired } from './webgpu.js';

const saved = process.env.EBM_TEST_WEBGPU;

afterEach(() => {
  if (saved === undefined) delete process.env.EBM_TEST_WEBGPU;
  else process.env.EBM_TEST_WEBGPU = saved;
  vi.restoreAllMocks();
});

describe('webGpuForTests (the WebGPU test set-up)', () => {
  it("returns the set-up's result when it succeeds, required or not", async () => {
    for (const env of ['1', undefined]) {
      if (env === undefined) delete process.env.EBM_TEST_WEBGPU;
      else process.env.EBM_TEST_WEBGPU = env;
      const gpu = await webGpuForTests(async () => ({ vendor: 'test' }), 'kit tests');
      expect(gpu).toEqual({
        available: true,
        required: env === '1',
        info: { vendor: 'test' },
        reason: undefined,
      });
    }
  });

  it('without EBM_TEST_WEBGPU=1 a failing set-up warns and skips', async () => {
    delete process.env.EBM_TEST_WEBGPU;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const gpu = await webGpuForTests(() => Promise.reject(new Error('no adapter')), 'kit tests');
    expect(gpu).toEqual({ available: false, required: false, info: undefined, reason: 'no adapter' });
    expect(webGpuTestsRequired()).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/\[ebm\] kit tests skipped .*no adapter/);
  });

  it('with EBM_TEST_WEBGPU=1 a failing set-up (thrown or rejected) fails with TEST_FAILURE naming the cause', async () => {
    process.env.EBM_TEST_WEBGPU = '1';
    expect(webGpuTestsRequired()).toBe(true);
    const cause = new Error('no adapter');
    for (const setup of [
      () => Promise.reject(cause),
      () => {
        throw cause;
      },
    ]) {
      const e = await webGpuForTests(setup, 'kit tests').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isEbmError(e) && e.code).toBe('TEST_FAILURE');
      expect((e as Error).message).toMatch(/EBM_TEST_WEBGPU=1.*kit tests.*no adapter/);
      expect((e as Error).cause).toBe(cause);
    }
  });

  it('rejects a missing set-up function or label with INVALID_PARAM', async () => {
    await expectEbmErrorAsync(() => webGpuForTests(undefined as never, 'x'), 'INVALID_PARAM', {
      argument: 'setup',
    });
    await expectEbmErrorAsync(() => webGpuForTests(async () => 1, ''), 'INVALID_PARAM', {
      argument: 'label',
    });
  });
});
