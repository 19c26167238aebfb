import { assertInteger, assertPositive, EbmError, MAX_ELEMENTS } from '@ebm/core';
import { assertActivation, assertLayerActivations } from './base.js';
import { assertManifest, type WeightsArtifact } from './serialize.js';

/**
 * # Validating a weights artifact before building anything
 *
 * A model file is untrusted data: its config could declare a network of billions of parameters, its weights
 * could hold NaN, its JSON could carry `__proto__` keys. {@link validateArtifact} checks the whole document —
 * known fields, the config's values, the exact parameter layout the config implies against the manifest, the
 * size against core's `MAX_ELEMENTS` and against the payload actually present, and finite values — so
 * `restoreEnergy` rejects a bad file in microseconds instead of allocating the network first.
 * @module
 */

/** One parameter a config implies: name, shape, trainable. */
export interface ParameterLayout {
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

const MANIFEST_KEYS = ['format', 'version', 'config', 'weights'];
const SPEC_KEYS = ['name', 'shape', 'dtype', 'offset', 'byteLength', 'trainable'];
const MLP_KEYS = ['type', 'inputDim', 'widths', 'activation', 'leakySlope', 'spectralNormIterations'];
const CONV_KEYS = [
  'type',
  'inputShape',
  'channels',
  'kernelSize',
  'activation',
  'leakySlope',
  'spectralNormIterations',
];

function bad(
  message: string,
  argument: string,
  value: unknown,
  code: 'INVALID_PARAM' | 'SHAPE_MISMATCH' | 'NON_FINITE' = 'INVALID_PARAM',
): never {
  throw new EbmError(code, message, {
    argument,
    value,
    fix: 'pass an unmodified artifact saved by saveWeights()/toJSON().',
  });
}

function assertOnlyKeys(where: string, obj: object, known: readonly string[]): void {
  for (const k of Object.keys(obj))
    if (!known.includes(k)) bad(`${where} has an unknown field "${k}".`, `${where}.${k}`, k);
}

function intArray(where: string, v: unknown, min: number, minLength: number): number[] {
  if (!Array.isArray(v) || v.length < minLength)
    bad(`${where} must be an array of integers (at least ${minLength}).`, where, v);
  if (v.length > 1000) bad(`${where} lists ${v.length} entries (at most 1000).`, where, v.length);
  return v.map((x, i) => assertInteger(`${where}[${i}]`, x, min, MAX_ELEMENTS));
}

/** Adds up sizes, failing as soon as the total passes MAX_ELEMENTS (no overflow, no allocation). */
function checkedTotal(layout: readonly ParameterLayout[], what: string): number {
  let total = 0;
  for (const p of layout) {
    let size = 1;
    for (const s of p.shape) size *= s;
    total += size;
    if (!(total <= MAX_ELEMENTS)) {
      throw new EbmError(
        'INVALID_PARAM',
        `${what} declares more than ${MAX_ELEMENTS} parameters (2^28, 1 GiB of float32).`,
        {
          argument: 'config',
          value: total,
          fix: 'use smaller widths / channels.',
        },
      );
    }
  }
  return total;
}

/** The parameters an MLP config implies (the layout `MLPEnergy` builds). */
export function mlpLayout(
  inputDim: number,
  widths: readonly number[],
  snIterations: number,
): ParameterLayout[] {
  const sizes = [inputDim, ...widths, 1];
  const out: ParameterLayout[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    out.push({ name: `dense${l}/kernel`, shape: [sizes[l]!, sizes[l + 1]!], trainable: true });
    out.push({ name: `dense${l}/bias`, shape: [sizes[l + 1]!], trainable: true });
    if (snIterations > 0) out.push({ name: `dense${l}/sn_u`, shape: [1, sizes[l + 1]!], trainable: false });
  }
  return out;
}

/** The parameters a conv config implies (the layout `ConvEnergy` builds). */
export function convLayout(
  inputChannels: number,
  channels: readonly number[],
  kernelSize: number,
  snIterations: number,
): ParameterLayout[] {
  const out: ParameterLayout[] = [];
  let cin = inputChannels;
  channels.forEach((cout, l) => {
    out.push({ name: `conv${l}/kernel`, shape: [kernelSize, kernelSize, cin, cout], trainable: true });
    out.push({ name: `conv${l}/bias`, shape: [cout], trainable: true });
    if (snIterations > 0) out.push({ name: `conv${l}/sn_u`, shape: [1, cout], trainable: false });
    cin = cout;
  });
  out.push({ name: 'head/kernel', shape: [cin, 1], trainable: true });
  out.push({ name: 'head/bias', shape: [1], trainable: true });
  if (snIterations > 0) out.push({ name: 'head/sn_u', shape: [1, 1], trainable: false });
  return out;
}

/** Checks that a network of `layout` fits {@link MAX_ELEMENTS} before it is built (constructors call it). */
export function assertLayoutSize(layout: readonly ParameterLayout[], what: string): number {
  return checkedTotal(layout, what);
}

/**
 * Validates a whole weights artifact without building anything: manifest fields (no unknown or `__proto__`
 * keys), the config of a known type with valid values, the exact parameter layout the config implies (names,
 * shapes, trainable flags) against the manifest's specs, offsets and lengths inside the payload, the total size
 * against `MAX_ELEMENTS`, and finite float32 values. Throws an `EbmError` naming the field; returns the layout.
 */
export function validateArtifact(art: WeightsArtifact): ParameterLayout[] {
  if (art === null || typeof art !== 'object' || !(art.data instanceof Uint8Array)) {
    bad(
      'a weights artifact is { manifest, data: Uint8Array }.',
      'artifact',
      art === null ? null : typeof art,
    );
  }
  const m = assertManifest(art.manifest);
  assertOnlyKeys('manifest', m, MANIFEST_KEYS);
  const c = m.config as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    bad('manifest.config must be an object.', 'config', typeof c);
  let layout: ParameterLayout[];
  if (c.type === 'mlp') {
    assertOnlyKeys('config', c, MLP_KEYS);
    const inputDim = assertInteger('config.inputDim', c.inputDim, 1, MAX_ELEMENTS);
    const widths = intArray('config.widths', c.widths, 1, 0);
    assertLayerActivations(c.activation, widths.length, 'config.activation');
    assertPositive('config.leakySlope', c.leakySlope);
    const it = assertInteger('config.spectralNormIterations', c.spectralNormIterations, 0, 1000);
    layout = mlpLayout(inputDim, widths, it);
  } else if (c.type === 'conv') {
    assertOnlyKeys('config', c, CONV_KEYS);
    const shape = intArray('config.inputShape', c.inputShape, 1, 3);
    if (shape.length !== 3)
      bad('config.inputShape must be [height, width, channels].', 'config.inputShape', shape);
    if (!(shape[0]! * shape[1]! * shape[2]! <= MAX_ELEMENTS))
      bad('config.inputShape is too large.', 'config.inputShape', shape);
    const channels = intArray('config.channels', c.channels, 1, 1);
    const k = assertInteger('config.kernelSize', c.kernelSize, 1, 1000);
    assertActivation(c.activation);
    assertPositive('config.leakySlope', c.leakySlope);
    const it = assertInteger('config.spectralNormIterations', c.spectralNormIterations, 0, 1000);
    layout = convLayout(shape[2]!, channels, k, it);
  } else {
    throw new EbmError('INVALID_PARAM', `unknown neural energy type "${String(c.type)}".`, {
      argument: 'config.type',
      value: c.type,
      fix: "restoreEnergy knows 'mlp' and 'conv'; load other energies with energy.loadWeights().",
    });
  }
  const total = checkedTotal(layout, `the ${c.type} config`);
  if (total * 4 > art.data.byteLength) {
    bad(
      `the config declares ${total} parameters (${total * 4} bytes) but the payload holds ${art.data.byteLength} bytes.`,
      'data',
      art.data.byteLength,
      'SHAPE_MISMATCH',
    );
  }
  if (m.weights.length !== layout.length) {
    bad(
      `the manifest lists ${m.weights.length} weights; the config implies ${layout.length}.`,
      'manifest.weights',
      m.weights.length,
      'SHAPE_MISMATCH',
    );
  }
  const view = new DataView(art.data.buffer, art.data.byteOffset, art.data.byteLength);
  layout.forEach((p, i) => {
    const s = m.weights[i] as unknown as Record<string, unknown>;
    if (s === null || typeof s !== 'object')
      bad(`manifest.weights[${i}] must be an object.`, `manifest.weights[${i}]`, s);
    assertOnlyKeys(`manifest.weights[${i}]`, s, SPEC_KEYS);
    const shape = s.shape as unknown;
    if (
      s.name !== p.name ||
      !Array.isArray(shape) ||
      shape.length !== p.shape.length ||
      shape.some((v, j) => v !== p.shape[j]) ||
      s.dtype !== 'float32' ||
      s.trainable !== p.trainable
    ) {
      bad(
        `manifest.weights[${i}] is ${JSON.stringify({ name: s.name, shape, dtype: s.dtype, trainable: s.trainable })}; the config implies ${JSON.stringify({ ...p, dtype: 'float32' })}.`,
        `manifest.weights[${i}]`,
        s.name,
        'SHAPE_MISMATCH',
      );
    }
    const size = p.shape.reduce((a, b) => a * b, 1);
    const offset = assertInteger(`manifest.weights[${i}].offset`, s.offset, 0);
    if (s.byteLength !== size * 4 || offset + size * 4 > art.data.byteLength || offset % 4 !== 0) {
      bad(
        `weight "${p.name}" does not fit the payload.`,
        `manifest.weights[${i}]`,
        { offset, byteLength: s.byteLength },
        'SHAPE_MISMATCH',
      );
    }
    for (let j = 0; j < size; j++) {
      const v = view.getFloat32(offset + 4 * j, true);
      if (!Number.isFinite(v)) {
        throw new EbmError('NON_FINITE', `weight "${p.name}"[${j}] is ${v}.`, {
          argument: `manifest.weights[${i}]`,
          value: v,
          fix: 'restore a model saved before training diverged.',
        });
      }
    }
  });
  return layout;
}
