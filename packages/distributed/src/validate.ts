import { EbmError } from '@ebm/core';

/**
 * # Job payloads are untrusted input
 *
 * Anything read from Redis (job data, checkpoints, results) may come from another party that can reach the
 * queue. It is checked here before use: plain JSON only (no functions, no prototypes), bounded depth, size,
 * string and array lengths, finite numbers, allow-listed keys (unknown keys are an error, never ignored), and
 * own properties only (a `__proto__` or `constructor` key is refused). The factories of the worker's
 * registry then validate their own parameters (core's `EbmError` for unknown options).
 * @module
 */

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Limits on untrusted payloads. */
export interface PayloadLimits {
  /** Nesting depth (default 8). */
  readonly maxDepth: number;
  /** Characters of one string (default 4096). */
  readonly maxString: number;
  /** Entries of one array or object (default 4096). */
  readonly maxEntries: number;
}

/** Default {@link PayloadLimits}. */
export const DEFAULT_LIMITS: PayloadLimits = Object.freeze({
  maxDepth: 8,
  maxString: 4096,
  maxEntries: 4096,
});

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The `INVALID_JOB` error of a payload that fails validation. */
export function invalidJob(argument: string, message: string, value?: unknown, fix?: string): EbmError {
  return new EbmError('INVALID_PARAM', `Invalid job payload: ${argument} ${message}`, {
    argument,
    value: summarise(value),
    fix: fix ?? 'submit jobs with the @ebm/distributed client (or match its JobSpec types exactly).',
  });
}

function summarise(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 80)}…` : v;
  if (v === null || typeof v !== 'object') return v;
  return Array.isArray(v) ? `array(${v.length})` : 'object';
}

/** Checks that `value` is plain JSON within `limits` (throws `INVALID_PARAM` naming the path). */
export function assertJson(path: string, value: unknown, limits: PayloadLimits = DEFAULT_LIMITS): JsonValue {
  const walk = (p: string, v: unknown, depth: number): void => {
    if (depth > limits.maxDepth) throw invalidJob(p, `is nested deeper than ${limits.maxDepth} levels.`);
    if (v === null || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalidJob(p, 'must be a finite number.', v);
      return;
    }
    if (typeof v === 'string') {
      if (v.length > limits.maxString)
        throw invalidJob(p, `is longer than ${limits.maxString} characters.`, v);
      return;
    }
    if (Array.isArray(v)) {
      if (v.length > limits.maxEntries) throw invalidJob(p, `has more than ${limits.maxEntries} entries.`, v);
      for (let i = 0; i < v.length; i++) walk(`${p}[${i}]`, v[i], depth + 1);
      return;
    }
    if (typeof v === 'object') {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw invalidJob(p, 'must be a plain object.', v);
      const keys = Object.keys(v);
      if (keys.length > limits.maxEntries) throw invalidJob(p, `has more than ${limits.maxEntries} keys.`, v);
      for (const k of keys) {
        if (FORBIDDEN_KEYS.has(k)) throw invalidJob(`${p}.${k}`, 'is a forbidden key.', k);
        walk(`${p}.${k}`, (v as Record<string, unknown>)[k], depth + 1);
      }
      return;
    }
    throw invalidJob(p, `must be JSON data, not ${typeof v}.`, typeof v);
  };
  walk(path, value, 0);
  return value as JsonValue;
}

/** Checks that `value` is a plain object with only the `allowed` keys and the `required` ones present. */
export function assertObject(
  path: string,
  value: unknown,
  allowed: readonly string[],
  required: readonly string[] = [],
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidJob(path, 'must be an object.', value);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw invalidJob(path, 'must be a plain object.', value);
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) {
      throw invalidJob(`${path}.${k}`, 'is not a known field.', k, `use only: ${allowed.join(', ')}.`);
    }
  }
  for (const k of required) {
    if (!Object.hasOwn(value, k)) throw invalidJob(`${path}.${k}`, 'is required.');
  }
  return value as Record<string, unknown>;
}

/** An integer in [min, max]. */
export function assertInt(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidJob(path, `must be an integer in [${min}, ${max}].`, value);
  }
  return value;
}

/** A name: 1–128 characters of letters, digits, `_`, `-`, `.`. */
export function assertName(path: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(value)) {
    throw invalidJob(path, 'must be a name of 1–128 characters [A-Za-z0-9_.-].', value);
  }
  return value;
}

/** One of `options`. */
export function assertOneOf<T extends string>(path: string, value: unknown, options: readonly T[]): T {
  if (typeof value !== 'string' || !options.includes(value as T)) {
    throw invalidJob(path, `must be one of ${options.join(', ')}.`, value);
  }
  return value as T;
}

/** Parses a JSON string read from Redis (size-limited) and checks it is plain JSON. */
export function parseJson(path: string, text: unknown, maxBytes: number, limits?: PayloadLimits): JsonValue {
  if (typeof text !== 'string') throw invalidJob(path, 'must be a JSON string.', typeof text);
  if (text.length > maxBytes) throw invalidJob(path, `is larger than ${maxBytes} bytes.`, text.length);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw invalidJob(path, `is not valid JSON (${(e as Error).message}).`);
  }
  return assertJson(path, v, limits);
}
