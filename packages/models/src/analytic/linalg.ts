import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** A dense matrix in float64, row-major, `n × n`. */
export interface HostMatrix {
  readonly n: number;
  readonly data: Float64Array;
}

/** Reads a vector argument (number array, typed array or rank-1 tensor) as float64, checking finiteness. */
export function readVector(name: string, value: unknown): Float64Array {
  let arr: ArrayLike<number>;
  if (value instanceof tf.Tensor) {
    if (value.rank !== 1) {
      throw new EbmError('SHAPE_MISMATCH', `${name} must be a vector (rank 1).`, {
        argument: name,
        value: value.shape,
        fix: `pass ${name} as a 1-D array such as [0, 0].`,
      });
    }
    arr = value.dataSync() as Float32Array;
  } else if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    arr = value as ArrayLike<number>;
    if (Array.isArray(value) && value.some((v) => typeof v !== 'number')) {
      throw new EbmError('SHAPE_MISMATCH', `${name} must be a flat array of numbers.`, {
        argument: name,
        value,
        fix: `pass ${name} as a 1-D array such as [0, 0].`,
      });
    }
  } else {
    throw new EbmError('INVALID_PARAM', `${name} must be an array of numbers.`, {
      argument: name,
      value: value === null ? null : typeof value,
      fix: `pass ${name} as a 1-D array such as [0, 0].`,
    });
  }
  if (arr.length < 1) {
    throw new EbmError('SHAPE_MISMATCH', `${name} must not be empty.`, {
      argument: name,
      value: [],
      fix: `pass at least one entry in ${name}.`,
    });
  }
  const out = Float64Array.from(arr);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new EbmError('NON_FINITE', `${name}[${i}] is not finite.`, {
        argument: name,
        value: out[i],
        fix: `replace NaN/Infinity in ${name}.`,
      });
    }
  }
  return out;
}

/** Reads a square matrix argument (nested arrays or a rank-2 tensor) as float64, checking shape and finiteness. */
export function readSquareMatrix(name: string, value: unknown, n: number): HostMatrix {
  let rows: ArrayLike<number>[];
  if (value instanceof tf.Tensor) {
    if (value.rank !== 2 || value.shape[0] !== value.shape[1]) {
      throw new EbmError('SHAPE_MISMATCH', `${name} must be a square matrix.`, {
        argument: name,
        value: value.shape,
        fix: `pass a ${n}×${n} matrix.`,
      });
    }
    rows = value.arraySync() as number[][];
  } else if (Array.isArray(value) && value.every((r) => Array.isArray(r) || ArrayBuffer.isView(r))) {
    rows = value as ArrayLike<number>[];
  } else {
    throw new EbmError('SHAPE_MISMATCH', `${name} must be a matrix given as an array of rows.`, {
      argument: name,
      value: value === null ? null : typeof value,
      fix: `pass a ${n}×${n} nested array such as [[1, 0], [0, 1]].`,
    });
  }
  if (rows.length !== n || rows.some((r) => r.length !== rows.length)) {
    const shape = [rows.length, ...rows.map((r) => r.length)];
    throw new EbmError(
      'SHAPE_MISMATCH',
      rows.some((r) => r.length !== rows.length)
        ? `${name} must be square.`
        : `${name} must be ${n}×${n} to match the mean's dimension.`,
      { argument: name, value: shape, fix: `pass a ${n}×${n} matrix (one row per dimension).` },
    );
  }
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = (rows[i] as ArrayLike<number>)[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new EbmError('NON_FINITE', `${name}[${i}][${j}] is not a finite number.`, {
          argument: name,
          value: v,
          fix: `replace NaN/Infinity in ${name}.`,
        });
      }
      data[i * n + j] = v;
    }
  }
  return { n, data };
}

/**
 * Cholesky factor L (lower triangular, Σ = L·Lᵀ) of a symmetric positive-definite matrix, in float64.
 * Throws `INVALID_PARAM` when Σ is not symmetric (|Σᵢⱼ − Σⱼᵢ| > 1e−6·max|Σ|, loose enough for matrices
 * computed in float32) or not positive definite; the factor is taken of the symmetric part (Σ + Σᵀ)/2.
 */
export function cholesky(name: string, m: HostMatrix): Float64Array {
  const { n, data } = m;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(data[i]!));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const a = data[i * n + j]!;
      const b = data[j * n + i]!;
      if (Math.abs(a - b) > 1e-6 * Math.max(scale, 1e-300)) {
        throw new EbmError('INVALID_PARAM', `${name} must be symmetric: [${i}][${j}] != [${j}][${i}].`, {
          argument: name,
          value: [a, b],
          fix: `symmetrise it, e.g. (S + Sᵀ)/2.`,
        });
      }
    }
  }
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) sym[i * n + j] = 0.5 * (data[i * n + j]! + data[j * n + i]!);
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = sym[j * n + j]!;
    for (let k = 0; k < j; k++) s -= L[j * n + k]! ** 2;
    if (!(s > 1e-14 * Math.max(scale, 1e-300))) {
      throw new EbmError(
        'INVALID_PARAM',
        `${name} must be positive definite (Cholesky pivot ${j} is ${s}).`,
        {
          argument: name,
          value: s,
          fix: `pass a symmetric positive-definite ${name} (all eigenvalues > 0); add a small multiple of the identity if it is singular.`,
        },
      );
    }
    const d = Math.sqrt(s);
    L[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = sym[i * n + j]!;
      for (let k = 0; k < j; k++) t -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = t / d;
    }
  }
  return L;
}

/** Inverse of a lower-triangular matrix (forward substitution), float64. */
export function invertLower(L: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = c; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= L[i * n + k]! * inv[k * n + c]!;
      inv[i * n + c] = s / L[i * n + i]!;
    }
  }
  return inv;
}

/** Precision P = Σ⁻¹ = L⁻ᵀ·L⁻¹ from the Cholesky factor, symmetric by construction, float64. */
export function precisionFromCholesky(L: Float64Array, n: number): Float64Array {
  const Li = invertLower(L, n);
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Li[k * n + i]! * Li[k * n + j]!;
      P[i * n + j] = s;
      P[j * n + i] = s;
    }
  }
  return P;
}

/** log det Σ = 2 Σᵢ log Lᵢᵢ. */
export function logDetFromCholesky(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]!);
  return 2 * s;
}

/** Converts a row-major float64 matrix to nested arrays. */
export function toRows(a: Float64Array, n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from(a.subarray(i * n, (i + 1) * n)));
  return out;
}

/** A tensor that survives enclosing `tf.tidy` scopes (owned by the energy; freed by its `dispose()`). */
export function keptTensor(values: ArrayLike<number>, shape: number[]): tf.Tensor {
  return tf.keep(tf.tensor(Float32Array.from(values), shape, 'float32'));
}

/** Validates the sample count of an exact sampler. */
export function assertSampleCount(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new EbmError('INVALID_PARAM', 'n must be an integer >= 1.', {
      argument: 'n',
      value: n,
      fix: 'ask for at least one sample, e.g. sample(1000, rngKey(0)).',
    });
  }
  return n;
}
