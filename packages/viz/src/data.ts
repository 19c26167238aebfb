import { assertKnownOptions, EbmError } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import * as tf from '@tensorflow/tfjs-core';
import { VIZ_OPTION_KEYS } from './option-keys.js';

/**
 * A set of 2-D points: a `[N, 2]` tensor, an array of `[x, y]` pairs, or columns `{ x, y }`.
 * Exactly two features: slice wider data first (e.g. `tf.slice(x, [0, 0], [-1, 2])`).
 */
export type Points2D =
  | tf.Tensor2D
  | readonly (readonly number[])[]
  | { readonly x: ArrayLike<number>; readonly y: ArrayLike<number> };

/** One numeric series: an array, a typed array or a rank-1 tensor. */
export type Series = ArrayLike<number> | tf.Tensor1D;

/** Several chains of one scalar: one array per chain (all the same length), or a `[chains, draws]` tensor. */
export type ChainsInput = readonly ArrayLike<number>[] | tf.Tensor2D;

/**
 * Chain trajectories in 2-D: a `[chains, steps, 2]` tensor or nested arrays `trajectories[chain][step] = [x, y]`.
 */
export type TrajectoriesInput = tf.Tensor3D | readonly (readonly (readonly number[])[])[];

/** A closed interval `[lo, hi]` with lo < hi. */
export type Range = readonly [number, number];

/** Points as two columns. */
export interface XY {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/** An `INVALID_PARAM` error naming the argument, the value and the fix (internal helper). */
export function invalid(argument: string, message: string, value: unknown, fix: string): EbmError {
  return new EbmError('INVALID_PARAM', message, { argument, value, fix });
}

function checkFinite(name: string, arr: ArrayLike<number>): void {
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) {
      throw new EbmError('NON_FINITE', `${name} holds a non-finite value at index ${i}.`, {
        argument: name,
        value: arr[i],
        fix: `remove NaN/Infinity from ${name} before plotting (a diverged sampler often produces them).`,
      });
    }
  }
}

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

async function readTensor(name: string, t: tf.Tensor, rank: number): Promise<Float64Array> {
  if (t.isDisposed) {
    throw new EbmError('STATE_ERROR', `${name} is a disposed tensor.`, {
      argument: name,
      value: t.shape,
      fix: 'plot the tensor before disposing it.',
    });
  }
  if (t.rank !== rank) {
    throw new EbmError('SHAPE_MISMATCH', `${name} must be a rank-${rank} tensor.`, {
      argument: name,
      value: t.shape,
      fix: `pass a tensor of rank ${rank}.`,
    });
  }
  return Float64Array.from(await t.data());
}

/** Reads a {@link Points2D} into two columns; validates non-empty, 2 features, equal lengths, finite. */
export async function toXY(name: string, points: Points2D, allowEmpty = false): Promise<XY> {
  let x: Float64Array;
  let y: Float64Array;
  if (isTensor(points)) {
    if (points.rank !== 2 || points.shape[1] !== 2) {
      throw new EbmError('SHAPE_MISMATCH', `${name} must be a [N, 2] tensor.`, {
        argument: name,
        value: points.shape,
        fix: 'plot two features at a time, e.g. tf.slice(x, [0, 0], [-1, 2]).',
      });
    }
    const flat = await readTensor(name, points, 2);
    const n = flat.length / 2;
    x = new Float64Array(n);
    y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = flat[2 * i]!;
      y[i] = flat[2 * i + 1]!;
    }
  } else if (Array.isArray(points)) {
    const rows = points as readonly (readonly number[])[];
    x = new Float64Array(rows.length);
    y = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!r || typeof r !== 'object' || r.length !== 2) {
        throw new EbmError('SHAPE_MISMATCH', `${name}[${i}] must be an [x, y] pair.`, {
          argument: name,
          value: r === undefined || r === null ? r : Array.isArray(r) ? r.length : typeof r,
          fix: 'pass an array of [x, y] pairs.',
        });
      }
      x[i] = r[0]!;
      y[i] = r[1]!;
    }
  } else if (points !== null && typeof points === 'object' && 'x' in points && 'y' in points) {
    const cols = points as { x: ArrayLike<number>; y: ArrayLike<number> };
    if (typeof cols.x?.length !== 'number' || typeof cols.y?.length !== 'number') {
      throw invalid(name, `${name}.x and ${name}.y must be arrays.`, typeof cols.x, 'pass numeric arrays.');
    }
    if (cols.x.length !== cols.y.length) {
      throw new EbmError('SHAPE_MISMATCH', `${name}.x and ${name}.y have different lengths.`, {
        argument: name,
        value: [cols.x.length, cols.y.length],
        fix: 'pass columns of equal length.',
      });
    }
    x = Float64Array.from(cols.x);
    y = Float64Array.from(cols.y);
  } else {
    throw invalid(
      name,
      `${name} is not a point set.`,
      typeof points,
      'pass a [N, 2] tensor, an array of [x, y] pairs, or { x, y } columns.',
    );
  }
  if (x.length === 0 && !allowEmpty) {
    throw invalid(name, `${name} is empty.`, 0, 'pass at least one point.');
  }
  checkFinite(`${name} (x)`, x);
  checkFinite(`${name} (y)`, y);
  return { x, y };
}

/** Reads a series; validates non-empty and finite. */
export async function toSeries(name: string, s: Series, minLength = 1): Promise<Float64Array> {
  let out: Float64Array;
  if (isTensor(s)) out = await readTensor(name, s, 1);
  else if (s !== null && typeof s === 'object' && typeof (s as ArrayLike<number>).length === 'number') {
    out = Float64Array.from(s as ArrayLike<number>);
  } else {
    throw invalid(
      name,
      `${name} must be an array of numbers.`,
      typeof s,
      'pass a numeric array or a 1-D tensor.',
    );
  }
  if (out.length < minLength) {
    throw invalid(name, `${name} needs at least ${minLength} value(s).`, out.length, 'pass a longer series.');
  }
  checkFinite(name, out);
  return out;
}

/** Reads chains into arrays of equal length; validates count, lengths and finiteness. */
export async function toChains(name: string, chains: ChainsInput, minDraws = 1): Promise<Float64Array[]> {
  let out: Float64Array[];
  if (isTensor(chains)) {
    const flat = await readTensor(name, chains, 2);
    const [m, n] = chains.shape as [number, number];
    out = [];
    for (let c = 0; c < m; c++) out.push(flat.slice(c * n, (c + 1) * n));
  } else if (Array.isArray(chains)) {
    out = chains.map((ch, c) => {
      if (ch === null || typeof ch !== 'object' || typeof ch.length !== 'number') {
        throw invalid(
          `${name}[${c}]`,
          `${name}[${c}] is not an array.`,
          typeof ch,
          'pass one array per chain.',
        );
      }
      return Float64Array.from(ch);
    });
  } else {
    throw invalid(
      name,
      `${name} must be an array of chains.`,
      typeof chains,
      'pass one array of draws per chain, or a [chains, draws] tensor.',
    );
  }
  if (out.length === 0) throw invalid(name, `${name} holds no chains.`, 0, 'pass at least one chain.');
  const n = out[0]!.length;
  if (out.some((c) => c.length !== n)) {
    throw new EbmError('SHAPE_MISMATCH', `${name}: every chain must have the same number of draws.`, {
      argument: name,
      value: out.map((c) => c.length),
      fix: 'trim the chains to a common length.',
    });
  }
  if (n < minDraws) {
    throw invalid(name, `${name} needs at least ${minDraws} draw(s) per chain.`, n, 'run longer chains.');
  }
  out.forEach((c, i) => {
    checkFinite(`${name}[${i}]`, c);
  });
  return out;
}

/** Reads trajectories `[chains][steps][2]` into per-chain columns. */
export async function toTrajectories(name: string, t: TrajectoriesInput): Promise<XY[]> {
  const out: XY[] = [];
  if (isTensor(t)) {
    if (t.rank !== 3 || t.shape[2] !== 2) {
      throw new EbmError('SHAPE_MISMATCH', `${name} must be a [chains, steps, 2] tensor.`, {
        argument: name,
        value: t.shape,
        fix: 'stack the trajectory as [chains, steps, 2] (two features).',
      });
    }
    const flat = await readTensor(name, t, 3);
    const [m, n] = t.shape as [number, number, number];
    for (let c = 0; c < m; c++) {
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        x[i] = flat[(c * n + i) * 2]!;
        y[i] = flat[(c * n + i) * 2 + 1]!;
      }
      out.push({ x, y });
    }
  } else if (Array.isArray(t)) {
    for (let c = 0; c < t.length; c++) out.push(await toXY(`${name}[${c}]`, t[c]!));
  } else {
    throw invalid(
      name,
      `${name} is not a trajectory set.`,
      typeof t,
      'pass a [chains, steps, 2] tensor or arrays.',
    );
  }
  if (out.length === 0 || out[0]!.x.length === 0) {
    throw invalid(name, `${name} is empty.`, out.length, 'pass at least one chain with one step.');
  }
  const n = out[0]!.x.length;
  if (out.some((c) => c.x.length !== n)) {
    throw new EbmError('SHAPE_MISMATCH', `${name}: every chain must have the same number of steps.`, {
      argument: name,
      value: out.map((c) => c.x.length),
      fix: 'trim the trajectories to a common length.',
    });
  }
  for (const c of out) {
    checkFinite(name, c.x);
    checkFinite(name, c.y);
  }
  return out;
}

/** Validates a range `[lo, hi]`, finite with lo < hi. */
export function checkRange(name: string, r: unknown): Range {
  if (
    !Array.isArray(r) ||
    r.length !== 2 ||
    !Number.isFinite(r[0]) ||
    !Number.isFinite(r[1]) ||
    !((r[0] as number) < (r[1] as number))
  ) {
    throw invalid(
      name,
      `${name} must be a finite interval [lo, hi] with lo < hi.`,
      r,
      `pass e.g. ${name}: [-3, 3].`,
    );
  }
  return [r[0] as number, r[1] as number];
}

/** Validates an integer option in `[min, max]`. */
export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(
      name,
      `${name} must be an integer in [${min}, ${max}].`,
      v,
      `pass an integer in [${min}, ${max}].`,
    );
  }
  return v;
}

/** Validates a positive pixel size option. */
export function checkSize(name: string, v: unknown, min = 40, max = 10000): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw invalid(
      name,
      `${name} must be a number of pixels in [${min}, ${max}].`,
      v,
      `pass e.g. ${name}: 480.`,
    );
  }
  return v;
}

/** Min and max of the given columns, padded by `pad` (fraction of the span; a zero span gets ±0.5). */
export function paddedExtent(cols: readonly ArrayLike<number>[], pad = 0.05): Range {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of cols) {
    for (let i = 0; i < c.length; i++) {
      const v = c[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(hi > lo)) return [lo - 0.5, hi + 0.5];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

/**
 * The x and y intervals of a 2-D plot: the given ones (checked), else the grid's, else the extent of the columns
 * padded by 10 %.
 */
export function axisRanges(
  cols: readonly XY[],
  grid: { xRange: Range; yRange: Range } | undefined,
  x?: Range,
  y?: Range,
): { xr: Range; yr: Range } {
  const xr =
    x !== undefined
      ? checkRange('xRange', x)
      : (grid?.xRange ??
        paddedExtent(
          cols.map((c) => c.x),
          0.1,
        ));
  const yr =
    y !== undefined
      ? checkRange('yRange', y)
      : (grid?.yRange ??
        paddedExtent(
          cols.map((c) => c.y),
          0.1,
        ));
  return { xr, yr };
}

/**
 * 2-D histogram of points on an `nx × ny` grid over the given domain, row-major with row 0 at the bottom
 * (`y` ascending); points outside the domain are dropped.
 */
export function bin2d(xy: XY, xDomain: Range, yDomain: Range, nx: number, ny: number): Float64Array {
  checkInt('nx', nx, 1, 4096);
  checkInt('ny', ny, 1, 4096);
  const counts = new Float64Array(nx * ny);
  const sx = nx / (xDomain[1] - xDomain[0]);
  const sy = ny / (yDomain[1] - yDomain[0]);
  for (let i = 0; i < xy.x.length; i++) {
    let ix = Math.floor((xy.x[i]! - xDomain[0]) * sx);
    let iy = Math.floor((xy.y[i]! - yDomain[0]) * sy);
    if (ix === nx && xy.x[i] === xDomain[1]) ix = nx - 1; // the top edge belongs to the last bin
    if (iy === ny && xy.y[i] === yDomain[1]) iy = ny - 1;
    if (ix >= 0 && ix < nx && iy >= 0 && iy < ny) counts[iy * nx + ix]! += 1;
  }
  return counts;
}

/** Options of point clouds in every plot. */
export interface PointStyle {
  /** Colour of the points (CSS colour). */
  readonly color?: string;
  /** Dot radius in pixels (vector mode, default 2). */
  readonly radius?: number;
  /** Dot opacity (vector mode, default 0.6). */
  readonly opacity?: number;
  /**
   * From this many points on, the cloud is drawn as one raster image of binned counts instead of one SVG node
   * per point (default 5000).
   */
  readonly rasterThreshold?: number;
  /** Bins per axis of the raster image (default 160). */
  readonly rasterBins?: number;
}

/**
 * Observable Plot marks for a point cloud (a building block for custom figures): dots below
 * `rasterThreshold`, one binned-count raster image (opacity ∝ √count) above it.
 */
export function pointMarks(xy: XY, xDomain: Range, yDomain: Range, style: PointStyle = {}): Plot.Markish[] {
  assertKnownOptions('pointMarks', style, VIZ_OPTION_KEYS.pointStyle);
  const color = style.color ?? '#d62728';
  const threshold = style.rasterThreshold ?? 5000;
  const n = xy.x.length;
  if (n === 0) return [];
  if (n < threshold) {
    // points outside the domain are dropped (not drawn over the margins and the title)
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = xy.x[i]!;
      const b = xy.y[i]!;
      if (a >= xDomain[0] && a <= xDomain[1] && b >= yDomain[0] && b <= yDomain[1]) {
        x.push(a);
        y.push(b);
      }
    }
    return [
      Plot.dot(x, {
        x: (d: number) => d,
        y: (_d: number, i: number) => y[i],
        r: style.radius ?? 2,
        fill: color,
        fillOpacity: style.opacity ?? 0.6,
        stroke: 'none',
        clip: true,
      }),
    ];
  }
  const bins = checkInt('rasterBins', style.rasterBins ?? 160, 8, 2048);
  const counts = bin2d(xy, xDomain, yDomain, bins, bins);
  let max = 0;
  for (const c of counts) if (c > max) max = c;
  const opacity = Array.from(counts, (c) => (c === 0 ? 0 : 0.25 + 0.75 * Math.sqrt(c / max)));
  return [
    Plot.raster(opacity, {
      width: bins,
      height: bins,
      x1: xDomain[0],
      x2: xDomain[1],
      y1: yDomain[0],
      y2: yDomain[1],
      fill: color,
      fillOpacity: (d: number) => d,
      imageRendering: 'pixelated',
      clip: true,
    }),
  ];
}
