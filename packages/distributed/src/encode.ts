import { EbmError } from '@ebm/core';
import { invalidJob } from './validate.js';

/**
 * Float arrays as base64 strings of their little-endian bytes (exact, compact in JSON), and back with a length
 * check (results and checkpoints read from Redis are untrusted).
 * @module
 */

/** Base64 of a float array's bytes. */
export function encodeFloats(a: Float32Array | Float64Array): string {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) {
    throw new EbmError('INVALID_PARAM', 'encodeFloats needs a Float32Array or Float64Array.', {
      argument: 'a',
      value: a === null ? null : typeof a,
      fix: 'pass Float32Array.from(values) (or Float64Array).',
    });
  }
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decode(path: string, s: unknown, bytesPer: number, expected?: number): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
    throw invalidJob(path, 'must be base64.', s);
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength % bytesPer !== 0) throw invalidJob(path, 'has a length that is not whole floats.');
  if (expected !== undefined && buf.byteLength !== expected * bytesPer) {
    throw invalidJob(path, `must hold ${expected} floats.`, buf.byteLength / bytesPer);
  }
  const out = new Uint8Array(buf.byteLength);
  out.set(buf);
  return out;
}

/** Decodes {@link encodeFloats} output into a Float32Array (of `expected` length when given). */
export function decodeFloat32(path: string, s: unknown, expected?: number): Float32Array {
  return new Float32Array(decode(path, s, 4, expected).buffer);
}

/** Decodes {@link encodeFloats} output into a Float64Array (of `expected` length when given). */
export function decodeFloat64(path: string, s: unknown, expected?: number): Float64Array {
  return new Float64Array(decode(path, s, 8, expected).buffer);
}
