import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import '../register.js';
import { BaseEnergy, type EnergyFunction } from '../energy.js';
import { EbmError } from '../errors.js';
import { declareKernel, getKernelImpl, type KernelImpl, registerKernelImpl, runKernel } from '../kernels.js';
import { badInputCases, describeBadInputMatrix, type MatrixTestApi } from './bad-input.js';
import { expectEbmError, expectEbmErrorAsync } from './errors.js';
import { countKernelCalls, withoutKernelHint, withoutKernelImpls } from './kernels.js';
import { expectNoLeaks } from './leaks.js';
import { ThrowingEnergy } from './throwing-energy.js';

/** A framework stand-in that records what describeBadInputMatrix registers. */
function recorder() {
  const suites: string[] = [];
  const tests: [string, () => unknown][] = [];
  const todos: string[] = [];
  const api: MatrixTestApi = {
    describe: (name, body) => {
      suites.push(name);
      body();
    },
    it: Object.assign((name: string, body: () => unknown) => tests.push([name, body]), {
      todo: (name: string) => todos.push(name),
    }),
  };
  return { api, suites, tests, todos };
}

const check = (v: unknown): number => {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new EbmError('INVALID_PARAM', 'v must be a positive finite number', {
      argument: 'v',
      value: v,
      fix: 'pass v > 0',
    });
  }
  return v;
};

describe('describeBadInputMatrix', () => {
  it('registers the coverage test, one test per case and a todo per open case', async () => {
    const cases = [
      ...badInputCases('check', 'v', { type: 'number', min: 'positive' }, check),
      ...badInputCases('other', 'x', { type: 'name' }, () => 1, { todo: { 'unknown name': 'not yet' } }),
    ];
    const r = recorder();
    describeBadInputMatrix(
      r.api,
      '@ebm/x',
      cases,
      { check, other: () => 1, K: 1 },
      { K: 'a constant' },
      {
        suffix: '(cpu)',
      },
    );
    expect(r.suites).toEqual(['@ebm/x bad-input matrix (cpu)']);
    expect(r.tests.map(([n]) => n)).toEqual([
      'covers every public export (or says why not)',
      ...cases.filter((c) => c.todo === undefined).map((c) => c.label),
    ]);
    expect(r.todos).toEqual(['other(x): unknown name — not yet']);
    for (const [name, body] of r.tests) {
      // 'other' returns 1 for a wrong type: that case must fail, the others pass.
      if (name === 'other(x): wrong type') await expect(body()).rejects.toThrow(/no error was thrown/);
      else await body();
    }
  });

  it('the coverage test names uncovered exports, and checks the case count', () => {
    const cases = badInputCases('check', 'v', { type: 'number', min: 'positive' }, check);
    const r = recorder();
    describeBadInputMatrix(r.api, '@ebm/x', cases, { check, forgotten: () => 1 }, {});
    expect(() => r.tests[0]![1]()).toThrow(/1 export\(s\) neither covered nor exempt: forgotten/);
    const r2 = recorder();
    describeBadInputMatrix(r2.api, '@ebm/x', cases, { check }, {}, { minCases: cases.length });
    expect(() => r2.tests[0]![1]()).toThrow(/expected more than/);
  });
});

describe('kernel-path helpers', () => {
  const name = 'testKitCounted';
  declareKernel(name, { description: 'test: doubles x', fallback: null }, { override: true });
  const double: KernelImpl<{ x: number }, number> = ({ x }) => 2 * x;
  afterEach(() => {
    registerKernelImpl(name, 'cpu', double as KernelImpl, { override: true });
  });

  it('countKernelCalls counts calls through the registry (filtered by where) and restores the impl', async () => {
    await tf.setBackend('cpu');
    registerKernelImpl(name, 'cpu', double as KernelImpl, { override: true });
    const [out, calls] = await countKernelCalls(name, 'cpu', async () => {
      const a = runKernel(name, { x: 1 }) as number;
      const b = runKernel(name, { x: 2 }) as number;
      return a + b;
    });
    expect([out, calls]).toEqual([6, 2]);
    expect(getKernelImpl(name, 'cpu')).toBe(double);
    const [, big] = await countKernelCalls(name, 'cpu', () => [1, 5, 7].map((x) => runKernel(name, { x })), {
      where: (i) => (i as { x: number }).x > 2,
    });
    expect(big).toBe(2);
    await expect(
      countKernelCalls(name, 'cpu', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(getKernelImpl(name, 'cpu')).toBe(double);
    await expect(countKernelCalls(name, 'no-such-backend', () => 0)).rejects.toThrow(/TEST_FAILURE/);
  });

  it('withoutKernelImpls removes the impls while f runs and puts back those that were registered', async () => {
    registerKernelImpl(name, 'cpu', double as KernelImpl, { override: true });
    const seen = await withoutKernelImpls([name, 'testKitNeverRegistered'], 'cpu', () =>
      getKernelImpl(name, 'cpu'),
    );
    expect(seen).toBeUndefined();
    expect(getKernelImpl(name, 'cpu')).toBe(double);
    expect(getKernelImpl('testKitNeverRegistered', 'cpu')).toBeUndefined();
  });

  it('withoutKernelHint hides the hint for sync and async f and restores the property as it was', async () => {
    const hint = { kind: 'mlp', params: {} };
    const e = { kernelHint: hint };
    expect(withoutKernelHint(e, () => e.kernelHint)).toBeUndefined();
    expect(e.kernelHint).toBe(hint);
    expect(await withoutKernelHint(e, async () => e.kernelHint)).toBeUndefined();
    expect(e.kernelHint).toBe(hint);
    expect(() =>
      withoutKernelHint(e, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(withoutKernelHint(e, () => Promise.reject(new Error('late')))).rejects.toThrow('late');
    expect(Object.getOwnPropertyDescriptor(e, 'kernelHint')).toEqual({
      value: hint,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    const bare: { kernelHint?: unknown } = {};
    withoutKernelHint(bare, () => undefined);
    expect('kernelHint' in bare).toBe(false);
  });
});

describe('ThrowingEnergy', () => {
  class Quadratic extends BaseEnergy {
    protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
      return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D;
    }
  }

  it('delegates, counts gradient evaluations and throws on the failAt-th one (leaving no tensor)', async () => {
    const e = new ThrowingEnergy(new Quadratic({ dim: 2 }), 2);
    expect(e.dim).toBe(2);
    expect((e as EnergyFunction).kernelHint).toBeUndefined();
    const x = tf.tensor2d([[1, 2]]);
    tf.dispose([e.energy(x), e.gradient(x)]);
    expect(e.calls).toBe(1);
    await expectNoLeaks(
      () => {
        expect(() => e.energyAndGradient(x)).toThrowError('energy failed mid-run');
      },
      { warmup: 0 },
    );
    e.reset();
    e.failAt = Number.POSITIVE_INFINITY;
    const { energy, gradient } = e.energyAndGradient(x);
    expect(Array.from(await gradient.data())).toEqual([1, 2]);
    expect(e.calls).toBe(1);
    tf.dispose([energy, gradient, x]);
    expect(() => new ThrowingEnergy(new Quadratic(), 1, 'boom').gradient(x)).toThrowError('boom');
  });
});

describe('expectEbmError', () => {
  it('returns the EbmError; TEST_FAILURE when nothing, something else or another EbmError is thrown', async () => {
    const e = expectEbmError(() => check(-1), 'INVALID_PARAM', { argument: 'v', message: /positive/ });
    expect(e.argument).toBe('v');
    expect(expectEbmError(() => check(Number.NaN)).code).toBe('INVALID_PARAM');
    expect(() => expectEbmError(() => check(1))).toThrowError(/TEST_FAILURE.*nothing was thrown/);
    expect(() =>
      expectEbmError(() => {
        throw new RangeError('raw');
      }),
    ).toThrowError(/TEST_FAILURE.*RangeError: raw/);
    expect(() => expectEbmError(() => check(-1), 'NON_FINITE')).toThrowError(
      /code INVALID_PARAM, expected NON_FINITE/,
    );
    expect(() => expectEbmError(() => check(-1), undefined, { argument: 'w' })).toThrowError(/argument v/);
    expect(() => expectEbmError(() => check(-1), undefined, { message: /finite!/ })).toThrowError(
      /does not match/,
    );
    expect(() => expectEbmError(async () => check(-1))).toThrowError(/expectEbmErrorAsync/);
    expect((await expectEbmErrorAsync(async () => check(-1), 'INVALID_PARAM')).argument).toBe('v');
    expect((await expectEbmErrorAsync(Promise.resolve().then(() => check(0)))).code).toBe('INVALID_PARAM');
    await expect(expectEbmErrorAsync(Promise.resolve(1))).rejects.toThrowError(/nothing was thrown/);
  });
});
