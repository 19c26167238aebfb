import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { normalCdf } from './diagnostics.js';
import { randomNormal, randomUniform } from './kernels.js';
import {
  bitsToUniform,
  foldIn,
  isRngKey,
  normalArray,
  normalTensor,
  philox4x32,
  RngStream,
  randomBits,
  rngKey,
  splitKey,
  toKey,
  uniformArray,
} from './rng.js';
import { expectNoLeaks } from './testing/leaks.js';
import { expectKsOneSample, expectMean, expectVariance } from './testing/stats.js';

const hex = (a: Uint32Array) => Array.from(a, (v) => v.toString(16).padStart(8, '0'));

describe('Philox4x32-10', () => {
  // Known-answer vectors of Random123 (kat_vectors: philox4x32 10 rounds).
  it('matches the published test vectors', () => {
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(
      hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])),
    ).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(
      hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
    ).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
  it('writes into a buffer at an offset', () => {
    const buf = new Uint32Array(8);
    philox4x32([0, 0, 0, 0], [0, 0], buf, 4);
    expect(buf[4]).toBe(0x6627e8d5);
    expect(buf[0]).toBe(0);
  });
});

describe('keys', () => {
  it('rngKey splits a seed into two words and reduces bigints mod 2^64', () => {
    expect([...rngKey(0)]).toEqual([0, 0]);
    expect([...rngKey(2 ** 32 + 5)]).toEqual([5, 1]);
    expect([...rngKey(-1)]).toEqual([0xffffffff, 0xffffffff]);
    expect([...rngKey(2n ** 64n + 7n)]).toEqual([7, 0]);
    expect(isRngKey(rngKey(3))).toBe(true);
    expect(isRngKey([1, 2, 3])).toBe(false);
    expect(toKey(rngKey(9))).toEqual(rngKey(9));
  });
  it('rejects bad seeds, keys and counts with EbmError', () => {
    expect(() => rngKey(1.5)).toThrowError(/INVALID_PARAM.*seed/);
    expect(() => rngKey(Number.NaN)).toThrowError(/seed/);
    expect(() => foldIn([1, -2] as unknown as [number, number], 0)).toThrowError(/RngKey/);
    expect(() => foldIn(rngKey(1), -1)).toThrowError(/foldIn data/);
    expect(() => splitKey(rngKey(1), 0)).toThrowError(/splitKey n/);
    expect(() => randomBits(rngKey(1), [2, -1])).toThrowError(/shape/);
    expect(() => new RngStream(1, -3)).toThrowError(/counter/);
    expect(() => RngStream.fromJSON(null as never)).toThrowError(/fromJSON/);
  });
  it('foldIn and splitKey give distinct keys, deterministically', () => {
    const k = rngKey(42);
    const folded = Array.from({ length: 100 }, (_, i) => foldIn(k, i).join(','));
    expect(new Set(folded).size).toBe(100);
    expect(foldIn(k, 7)).toEqual(foldIn(rngKey(42), 7));
    const split = splitKey(k, 50).map((s) => s.join(','));
    expect(new Set([...split, ...folded]).size).toBe(150);
    expect(foldIn(k, 2 ** 40)).not.toEqual(foldIn(k, 0));
  });
  it('RngStream continues bit-identically after a JSON round trip', () => {
    const a = new RngStream(5);
    a.next();
    a.next();
    const b = RngStream.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.position).toBe(2);
    expect(b.next()).toEqual(a.next());
    expect(a.next()).toEqual(foldIn(rngKey(5), 3));
  });
});

describe('streams', () => {
  it('uses the documented counter layout: flat element i = lane i%4 of block [i/4, 0, 0, 0]', () => {
    const key = rngKey(11);
    const bits = randomBits(key, [3, 6]);
    const blk = philox4x32([4, 0, 0, 0], key);
    expect(bits[16]).toBe(blk[0]);
    expect(bits[17]).toBe(blk[1]);
    const tail = philox4x32([3, 0, 0, 0], key);
    expect(randomBits(key, [14])[13]).toBe(tail[1]);
    expect(randomBits(key, []).length).toBe(1);
  });
  it('gives a chain the same numbers whatever the number of chains', () => {
    const key = rngKey(3);
    const a = normalArray(key, [2, 5]);
    const b = normalArray(key, [7, 5]);
    expect(Array.from(b.slice(0, 10))).toEqual(Array.from(a));
  });
  it('uniforms lie strictly inside (0, 1) and are float32-exact', () => {
    expect(bitsToUniform(0)).toBeGreaterThan(0);
    expect(bitsToUniform(0xffffffff)).toBeLessThan(1);
    expect(Math.fround(bitsToUniform(0x12345678))).toBe(bitsToUniform(0x12345678));
    // exact in float32 at both ends: stored values never round to 0 or 1
    expect(Math.fround(bitsToUniform(0xffffffff))).toBe(1 - 2 ** -24);
    expect(Math.fround(bitsToUniform(0))).toBe(2 ** -24);
    const u = uniformArray(rngKey(1), [1000, 3], -2, 2);
    expect(Math.min(...u)).toBeGreaterThan(-2);
    expect(Math.max(...u)).toBeLessThan(2);
  });
  it('uniform and normal draws follow their laws (KS, false-fail rate 1e-4 each)', () => {
    const u = uniformArray(rngKey(123), [20000]);
    expectKsOneSample(u, (x) => Math.min(1, Math.max(0, x)), { label: 'uniform' });
    const z = normalArray(rngKey(456), [5000, 4]);
    expectKsOneSample(z, normalCdf, { label: 'normal' });
    expectMean(z, 0, { label: 'normal mean' });
    expectVariance(z, 1, { label: 'normal variance' });
    const zs = normalArray(rngKey(9), [4000, 3], 2, 0.5);
    expectMean(zs, 2, { label: 'shifted mean' });
    expectVariance(zs, 0.25, { label: 'scaled variance' });
  });
  it('tensor versions equal the host arrays and leak nothing', async () => {
    const key = rngKey(77);
    const t = await expectNoLeaks(() => randomNormal(key, [4, 3]), { keepOutputs: true });
    expect(Array.from(t.dataSync())).toEqual(Array.from(normalArray(key, [4, 3])));
    expect(t.shape).toEqual([4, 3]);
    t.dispose();
    const u = randomUniform(key, [5]);
    expect(Array.from(u.dataSync())).toEqual(Array.from(uniformArray(key, [5])));
    u.dispose();
    const s = normalTensor(key, []);
    expect(s.shape).toEqual([]);
    s.dispose();
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });
});
