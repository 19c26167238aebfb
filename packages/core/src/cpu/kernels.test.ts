import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { chainKernelName, kernelSource, langevinStepComposite, runKernel } from '../kernels.js';
import { normalArray, rngKey } from '../rng.js';
import { expectNoLeaksSync } from '../testing/leaks.js';
import { runChainHost } from './host-chain.js';
import { CPU_CHAIN_KINDS, CPU_KERNEL_NAMES, langevinStepHost, registerCpuKernels } from './kernels.js';
import { langevinTile, setWasmNormals } from './philox.js';
import { bits, errorCode as codeOf, harmonicLangevinLoop, useCpuKernels } from './test/fixtures.js';

const cpu = useCpuKernels();

describe('fused CPU kernels', () => {
  it('register langevinStep and chain.<kind> for cpu and wasm, idempotently', () => {
    expect(registerCpuKernels()).toBe(cpu.unregister);
    for (const name of CPU_KERNEL_NAMES) {
      expect(kernelSource(name, 'cpu')).toBe('backend');
      expect(kernelSource(name, 'wasm')).toBe('backend');
    }
    for (const kind of ['doubleWell', 'harmonic', 'gaussian', 'gaussianMixture', 'mlp']) {
      expect(CPU_CHAIN_KINDS).toContain(kind);
    }
  });

  it('langevinStep is bit-identical to the composite, without leaks', () => {
    const shape: [number, number] = [33, 5];
    const x = tf.tensor2d(normalArray(rngKey(1), shape), shape);
    const grad = tf.tensor2d(normalArray(rngKey(2), shape, 0, 3), shape);
    const noise = tf.tensor2d(normalArray(rngKey(3), shape), shape);
    for (const [stepSize, noiseScale] of [
      [0.01, 1],
      [0.1234, 0.7],
      [0.3, 0],
    ] as const) {
      const a = expectNoLeaksSync(() => langevinStepHost({ x, grad, noise, stepSize, noiseScale }), {
        keepOutputs: true,
      });
      const b = langevinStepComposite({ x, grad, noise, stepSize, noiseScale });
      expect(bits(a)).toEqual(bits(b));
      tf.dispose([a, b]);
    }
    tf.dispose([x, grad, noise]);
  });

  it('chain.harmonic equals a hand-written step loop on the same stream (Langevin), without leaks', () => {
    const [B, D, N] = [9, 3, 12];
    const x0 = tf.tensor2d(normalArray(rngKey(4), [B, D], 0, 2), [B, D]);
    const key = rngKey(8);
    const out = expectNoLeaksSync(
      () =>
        runKernel(chainKernelName('harmonic'), {
          method: 'langevin',
          x0,
          nSteps: N,
          key,
          params: { k: 2 },
          settings: { stepSize: 0.05, noiseScale: 1 },
        }),
      { keepOutputs: true },
    ) as tf.Tensor2D;
    const x = harmonicLangevinLoop(x0, key, { nSteps: N, stepSize: 0.05, noiseScale: () => 1 });
    expect(bits(out)).toEqual(bits(x));
    tf.dispose([out, x, x0]);
  });

  it('a chain split in row blocks equals the whole batch (any split, any method)', () => {
    const [B, D] = [70, 4];
    const x0 = normalArray(rngKey(5), [B, D]);
    for (const method of ['langevin', 'mala', 'hmc']) {
      const spec = {
        kind: 'doubleWell',
        params: { barrierHeight: 2, b: 1 },
        method,
        settings: { stepSize: 0.02, nLeapfrogSteps: 3 },
        nSteps: 6,
        key: rngKey(9),
      };
      const whole = x0.slice();
      const accWhole = runChainHost(spec, whole, D, 0, B);
      for (const cut of [1, 33, 64, 65]) {
        const a = x0.slice(0, cut * D);
        const b = x0.slice(cut * D);
        const accA = runChainHost(spec, a, D, 0, cut, 0);
        const accB = runChainHost(spec, b, D, cut, B, cut);
        const joined = new Float32Array(B * D);
        joined.set(a);
        joined.set(b, cut * D);
        expect(Array.from(joined)).toEqual(Array.from(whole));
        if (accWhole !== undefined) expect([...accA!, ...accB!]).toEqual(Array.from(accWhole));
      }
    }
  });

  it('the Langevin tile in wasm SIMD memory equals the JavaScript loop bit for bit (tiles, row ranges, kinds)', () => {
    expect(langevinTile(64 * 4)).not.toBeNull(); // Node has WebAssembly SIMD: the fast path is what runs
    const cases = [
      { kind: 'doubleWell', params: { barrierHeight: 2, b: 1 }, D: 4, B: 150, r0: 0 },
      { kind: 'doubleWell', params: { barrierHeight: 0.5, b: 1.5 }, D: 3, B: 140, r0: 4 },
      { kind: 'harmonic', params: { k: 2 }, D: 8, B: 70, r0: 1 },
    ];
    for (const { kind, params, D, B, r0 } of cases) {
      const spec = {
        kind,
        params,
        method: 'langevin',
        settings: { stepSize: 0.03, noiseScale: 0.7 },
        nSteps: 7,
        key: rngKey(11),
      };
      const x0 = normalArray(rngKey(12), [B - r0, D], 0, 2);
      const fast = x0.slice();
      runChainHost(spec, fast, D, r0, B, r0);
      const was = setWasmNormals(false); // the JavaScript loop and normals: the reference
      const ref = x0.slice();
      runChainHost(spec, ref, D, r0, B, r0);
      setWasmNormals(was);
      expect(new Uint32Array(fast.buffer)).toEqual(new Uint32Array(ref.buffer));
    }
  });

  it('reports bad input as EbmError (unknown method → NOT_IMPLEMENTED, bad params → INVALID_PARAM)', () => {
    const x0 = tf.zeros([2, 2]) as tf.Tensor2D;
    const run = (method: string, params: Record<string, unknown>, settings: Record<string, number>) => () =>
      runKernel(chainKernelName('doubleWell'), {
        method,
        x0,
        nSteps: 2,
        key: rngKey(0),
        params,
        settings,
      } as never);
    expect(codeOf(run('nuts', { barrierHeight: 2, b: 1 }, { stepSize: 0.1 }))).toBe('NOT_IMPLEMENTED');
    expect(codeOf(run('langevin', { barrierHeight: -2, b: 1 }, { stepSize: 0.1 }))).toBe('INVALID_PARAM');
    expect(codeOf(run('langevin', { barrierHeight: 2, b: 1 }, { stepSize: 0 }))).toBe('INVALID_PARAM');
    expect(codeOf(run('hmc', { barrierHeight: 2, b: 1 }, { stepSize: 0.1, nLeapfrogSteps: 1.5 }))).toBe(
      'INVALID_PARAM',
    );
    expect(tf.memory().numTensors).toBeGreaterThan(0);
    x0.dispose();
  });
});
