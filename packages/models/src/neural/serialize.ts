import { EbmError } from '@ebm/core';

/** One tensor in a weights artifact. */
export interface WeightSpec {
  /** Unique name, e.g. `dense0/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32';
  /** Byte offset in the binary payload. */
  readonly offset: number;
  /** Byte length (4 · size). */
  readonly byteLength: number;
  /** Whether the tensor is optimised (false for state such as spectral-norm power-iteration vectors). */
  readonly trainable: boolean;
}

/** The JSON half of a weights artifact: architecture plus the layout of the binary payload. */
export interface WeightsManifest {
  readonly format: 'ebm-weights';
  readonly version: 1;
  /** The architecture (plain data) needed to rebuild the energy. */
  readonly config: Readonly<Record<string, unknown>> & { readonly type: string };
  readonly weights: readonly WeightSpec[];
}

/**
 * A portable weights artifact: a JSON manifest and a binary payload of little-endian float32 values.
 * Save the manifest as `model.json` and the payload as `weights.bin`, or use {@link artifactToJSON} for one
 * JSON document with a base64 payload. Round trips are bit-exact.
 */
export interface WeightsArtifact {
  readonly manifest: WeightsManifest;
  readonly data: Uint8Array;
}

/** A weights artifact as a single JSON document (payload in base64). */
export interface WeightsJSON extends WeightsManifest {
  /** Base64 of the little-endian float32 payload. */
  readonly data: string;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard base64 (RFC 4648, with padding) of bytes; no platform APIs needed. */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`;
  }
  return out;
}

/** Decodes standard base64 (with or without padding). Throws `INVALID_PARAM` on bad characters. */
export function base64ToBytes(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const n = Math.floor((clean.length * 3) / 4);
  const out = new Uint8Array(n);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) {
      throw new EbmError('INVALID_PARAM', `data is not valid base64 (character ${i}).`, {
        argument: 'data',
        value: clean[i],
        fix: 'pass the string produced by artifactToJSON / toJSON unchanged.',
      });
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** One JSON document from an artifact (base64 payload). */
export function artifactToJSON(artifact: WeightsArtifact): WeightsJSON {
  return { ...artifact.manifest, data: bytesToBase64(artifact.data) };
}

/** An artifact from a JSON document made by {@link artifactToJSON} (accepts the parsed object or the string). */
export function artifactFromJSON(json: WeightsJSON | string): WeightsArtifact {
  let j: WeightsJSON;
  try {
    j = (typeof json === 'string' ? JSON.parse(json) : json) as WeightsJSON;
  } catch (cause) {
    throw new EbmError('INVALID_PARAM', 'the weights document is not valid JSON.', {
      argument: 'json',
      value: typeof json === 'string' ? json.length : typeof json,
      fix: 'pass the string produced by JSON.stringify(energy) or energy.toJSON().',
      cause,
    });
  }
  assertManifest(j);
  if (typeof j.data !== 'string') {
    throw new EbmError('INVALID_PARAM', 'weights JSON has no base64 "data" string.', {
      argument: 'json.data',
      value: typeof j.data,
      fix: 'pass the object produced by artifactToJSON or energy.toJSON().',
    });
  }
  const { data, ...manifest } = j;
  return { manifest: manifest as WeightsManifest, data: base64ToBytes(data) };
}

/** Validates a manifest's shape (format, version, specs) and returns it. */
export function assertManifest(m: unknown): WeightsManifest {
  const x = m as WeightsManifest | null;
  if (x === null || typeof x !== 'object' || x.format !== 'ebm-weights' || x.version !== 1) {
    throw new EbmError('INVALID_PARAM', 'not an @ebm weights manifest (format "ebm-weights", version 1).', {
      argument: 'manifest',
      value: x === null || typeof x !== 'object' ? x : { format: x.format, version: x.version },
      fix: 'pass an artifact produced by saveWeights()/toJSON() of an @ebm/models neural energy.',
    });
  }
  if (!Array.isArray(x.weights) || typeof x.config?.type !== 'string') {
    throw new EbmError('INVALID_PARAM', 'weights manifest lacks "weights" or "config.type".', {
      argument: 'manifest',
      fix: 'pass an unmodified artifact.',
    });
  }
  return x;
}

/** Packs float32 arrays into one little-endian payload and its specs. */
export function packWeights(
  entries: readonly { name: string; shape: readonly number[]; values: Float32Array; trainable: boolean }[],
): { specs: WeightSpec[]; data: Uint8Array } {
  let total = 0;
  for (const e of entries) total += e.values.length * 4;
  const data = new Uint8Array(total);
  const view = new DataView(data.buffer);
  const specs: WeightSpec[] = [];
  let offset = 0;
  for (const e of entries) {
    specs.push({
      name: e.name,
      shape: [...e.shape],
      dtype: 'float32',
      offset,
      byteLength: e.values.length * 4,
      trainable: e.trainable,
    });
    for (let i = 0; i < e.values.length; i++) view.setFloat32(offset + 4 * i, e.values[i]!, true);
    offset += e.values.length * 4;
  }
  return { specs, data };
}

/** Reads the float32 values of one spec from a payload (bounds-checked). */
export function unpackWeight(spec: WeightSpec, data: Uint8Array): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.byteLength !== size * 4 || spec.offset < 0 || spec.offset + spec.byteLength > data.byteLength) {
    throw new EbmError('SHAPE_MISMATCH', `weight "${spec.name}" does not fit the payload.`, {
      argument: 'data',
      value: { offset: spec.offset, byteLength: spec.byteLength, payload: data.byteLength },
      fix: 'pass the payload saved together with this manifest.',
    });
  }
  const view = new DataView(data.buffer, data.byteOffset + spec.offset, spec.byteLength);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}
