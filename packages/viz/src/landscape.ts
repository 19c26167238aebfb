import { assertKnownOptions, EbmError, type EnergyFunction } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import * as tf from '@tensorflow/tfjs-core';
import { checkInt, checkRange, checkSize, invalid, type Range } from './data.js';
import { type Figure, type LegendPanel, type PlotPanel, TITLE_BAND } from './figure.js';
import { pickOptions, VIZ_OPTION_KEYS } from './option-keys.js';

/**
 * Energies on a regular 2-D grid: `values[j * nx + i] = E(x_i, y_j)` at cell centres
 * `x_i = x₀ + (i + ½)(x₁ − x₀)/nx`, `y_j = y₀ + (j + ½)(y₁ − y₀)/ny` (row 0 at the bottom). Non-finite energies
 * are kept as `NaN` and drawn transparent.
 */
export interface EnergyGrid {
  readonly nx: number;
  readonly ny: number;
  readonly xRange: Range;
  readonly yRange: Range;
  readonly values: Float64Array;
}

/** Options of {@link computeEnergyGrid}. */
export interface EnergyGridOptions {
  /** x interval (default `[-3, 3]`). */
  readonly xRange?: Range;
  /** y interval (default: `xRange`). */
  readonly yRange?: Range;
  /** Grid points per axis, or `[nx, ny]` (default 100; 2 to 1000). */
  readonly resolution?: number | readonly [number, number];
  /** Rows per energy evaluation (default 4096). */
  readonly batchSize?: number;
}

function checkEnergy(energy: unknown): EnergyFunction {
  const e = energy as EnergyFunction | null;
  if (e === null || typeof e !== 'object' || typeof e.energy !== 'function') {
    throw invalid(
      'energy',
      'energy must implement EnergyFunction.',
      typeof energy,
      'pass an energy (e.g. a BaseEnergy).',
    );
  }
  if (e.dim !== undefined && e.dim !== 2) {
    throw new EbmError('SHAPE_MISMATCH', `energy ${e.name} has dimension ${e.dim}; landscapes need 2.`, {
      argument: 'energy',
      value: e.dim,
      fix: 'plot a 2-D energy, or wrap yours to fix the other coordinates.',
    });
  }
  return e;
}

/**
 * Evaluates `energy.energy` on a regular grid over `xRange × yRange`, in batches on the active tfjs backend
 * (async reads, so it runs on webgl/webgpu as well). Leaves no tensors behind.
 */
export async function computeEnergyGrid(
  energy: EnergyFunction,
  options: EnergyGridOptions = {},
): Promise<EnergyGrid> {
  assertKnownOptions('computeEnergyGrid', options, VIZ_OPTION_KEYS.energyGrid);
  const e = checkEnergy(energy);
  const xRange = checkRange('xRange', options.xRange ?? [-3, 3]);
  const yRange = checkRange('yRange', options.yRange ?? xRange);
  const res = options.resolution ?? 100;
  const [nx, ny] = typeof res === 'number' ? [res, res] : Array.isArray(res) ? res : [Number.NaN, Number.NaN];
  checkInt('resolution', nx, 2, 1000);
  checkInt('resolution', ny, 2, 1000);
  const batch = checkInt('batchSize', options.batchSize ?? 4096, 1, 1 << 20);
  const n = nx * ny;
  const values = new Float64Array(n);
  const dx = (xRange[1] - xRange[0]) / nx;
  const dy = (yRange[1] - yRange[0]) / ny;
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const coords = new Float32Array(size * 2);
    for (let k = 0; k < size; k++) {
      const idx = start + k;
      coords[2 * k] = xRange[0] + ((idx % nx) + 0.5) * dx;
      coords[2 * k + 1] = yRange[0] + (Math.floor(idx / nx) + 0.5) * dy;
    }
    const x = tf.tensor2d(coords, [size, 2], 'float32');
    let out: tf.Tensor | undefined;
    try {
      out = e.energy(x, { checkFinite: false });
      if (out.rank !== 1 || out.shape[0] !== size) {
        throw new EbmError('SHAPE_MISMATCH', `energy ${e.name} returned shape [${out.shape.join(', ')}].`, {
          argument: 'energy',
          value: out.shape,
          fix: `return one energy per row ([${size}]).`,
        });
      }
      const data = await out.data();
      for (let k = 0; k < size; k++) {
        const v = data[k]!;
        values[start + k] = Number.isFinite(v) ? v : Number.NaN;
      }
    } finally {
      x.dispose();
      out?.dispose();
    }
  }
  if (!values.some((v) => Number.isFinite(v))) {
    throw new EbmError('NON_FINITE', `energy ${e.name} is non-finite everywhere on the grid.`, {
      argument: 'energy',
      value: { xRange, yRange },
      fix: 'choose a range where the energy is finite.',
    });
  }
  return { nx, ny, xRange, yRange, values };
}

function checkGrid(g: unknown): EnergyGrid {
  const grid = g as EnergyGrid;
  if (
    grid === null ||
    typeof grid !== 'object' ||
    !(grid.values instanceof Float64Array || Array.isArray(grid.values)) ||
    !Number.isInteger(grid.nx) ||
    !Number.isInteger(grid.ny) ||
    grid.nx < 2 ||
    grid.ny < 2
  ) {
    throw invalid('grid', 'grid is not an EnergyGrid.', typeof g, 'pass the result of computeEnergyGrid.');
  }
  if (grid.values.length !== grid.nx * grid.ny) {
    throw new EbmError('SHAPE_MISMATCH', 'grid.values must hold nx * ny values.', {
      argument: 'grid.values',
      value: [grid.values.length, grid.nx, grid.ny],
      fix: 'pass the result of computeEnergyGrid unchanged.',
    });
  }
  checkRange('grid.xRange', grid.xRange);
  checkRange('grid.yRange', grid.yRange);
  return grid;
}

/**
 * Which energies span the colour scale of an energy background; energies outside `[E_lo, E_hi]` are clipped to it
 * (drawn in the end colours, and contours are drawn on the clipped values):
 * - `'full'` (default): `[E_min, E_max]` of the grid's finite values.
 * - `'auto'`: `{ quantiles: [0.01, 0.99] }`, robust to a narrow spike or pit (a learned energy's single tall peak
 *   otherwise takes the whole scale and flattens its valleys into one colour).
 * - `{ quantiles: [qLo, qHi] }` (0 ≤ qLo < qHi ≤ 1): `E_lo`, `E_hi` are those quantiles of the grid's finite
 *   values (linear interpolation between order statistics: `q·(n − 1)`).
 * - `[lo, hi]`: fixed energies (finite, lo < hi), e.g. to give several figures one scale.
 */
export type ColorRange =
  | 'full'
  | 'auto'
  | readonly [number, number]
  | { readonly quantiles: readonly [number, number] };

/** Options of the landscape layer shared by every plot with an energy background. */
export interface LandscapeStyle {
  /**
   * Colour by `ln(E − E_lo + δ)` with `δ = 10⁻³ (E_hi − E_lo)` (or 10⁻¹⁰ when flat) instead of `E`, where
   * `[E_lo, E_hi]` is the colour range (`[E_min, E_max]` by default; see `colorRange`).
   */
  readonly logScale?: boolean;
  /** The energies that span the colour scale (default `'full'`: min to max; `'auto'` clips at the 1 % and 99 % quantiles). */
  readonly colorRange?: ColorRange;
  /** Legend label (default `energy E(x)`, or `ln(E − E_min + δ)` with `logScale`, plus the clipping range if any). */
  readonly colorLabel?: string;
  /** Draw contour lines (default true). */
  readonly contours?: boolean;
  /** Number of contour levels (default 12). */
  readonly contourLevels?: number;
  /** Sequential Observable Plot colour scheme (default `'viridis'`). */
  readonly colorScheme?: string;
}

/** `q`-quantile of ascending `sorted` (linear interpolation between order statistics at `q·(n − 1)`). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const h = q * (sorted.length - 1);
  const i = Math.floor(h);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i]! + (h - i) * (sorted[j]! - sorted[i]!);
}

const AUTO_QUANTILES: readonly [number, number] = [0.01, 0.99];

/**
 * The energies `[E_lo, E_hi]` that span the colour scale (see {@link ColorRange}) and a short description of the
 * clipping for the legend (`''` for the full range). Throws `INVALID_PARAM` for a malformed `colorRange`.
 */
export function resolveColorRange(
  values: ArrayLike<number>,
  range: ColorRange = 'full',
): { lo: number; hi: number; note: string } {
  const finite = Float64Array.from(values).filter((v) => Number.isFinite(v));
  if (finite.length === 0) {
    throw new EbmError('NON_FINITE', 'grid holds no finite energy.', {
      argument: 'grid.values',
      value: values.length,
      fix: 'choose a range where the energy is finite.',
    });
  }
  if (Array.isArray(range)) {
    const [lo, hi] = checkRange('colorRange', range);
    return { lo, hi, note: `clipped to [${fmt(lo)}, ${fmt(hi)}]` };
  }
  let q: readonly [number, number] | undefined;
  if (range === 'full') q = [0, 1];
  else if (range === 'auto') q = AUTO_QUANTILES;
  else if (range !== null && typeof range === 'object' && !Array.isArray(range)) {
    assertKnownOptions('colorRange', range, ['quantiles']);
    const qs = (range as { quantiles?: unknown }).quantiles;
    if (
      !Array.isArray(qs) ||
      qs.length !== 2 ||
      !qs.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
      !(qs[0] >= 0 && qs[0] < qs[1] && qs[1] <= 1)
    ) {
      throw invalid(
        'colorRange.quantiles',
        'colorRange.quantiles must be two quantiles [qLo, qHi] with 0 ≤ qLo < qHi ≤ 1.',
        qs,
        'pass e.g. colorRange: { quantiles: [0.01, 0.99] }, or colorRange: "auto".',
      );
    }
    q = [qs[0], qs[1]];
  }
  if (q === undefined) {
    throw invalid(
      'colorRange',
      "colorRange must be 'full', 'auto', [lo, hi] or { quantiles: [qLo, qHi] }.",
      range,
      "pass colorRange: 'auto' to clip a spike, or [lo, hi] for fixed energies.",
    );
  }
  finite.sort();
  const lo = quantileSorted(finite, q[0]);
  const hi = quantileSorted(finite, q[1]);
  const full = q[0] === 0 && q[1] === 1;
  const pct = (v: number) => `${+(v * 100).toFixed(2)} %`;
  return { lo, hi, note: full ? '' : `clipped to the ${pct(q[0])}–${pct(q[1])} quantiles` };
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : `${+v.toPrecision(4)}`;
}

/** The energy-background layer: raster heatmap, contours, colour scale and its legend. */
export interface LandscapeLayer {
  readonly marks: Plot.Markish[];
  readonly color: Plot.ScaleOptions;
  readonly legend: Plot.ScaleOptions;
  readonly shown: Float64Array;
  /** The colour domain, in shown units (after the log transform, if any). */
  readonly domain: Range;
  /** The energies `[E_lo, E_hi]` that span the colour scale (see {@link ColorRange}). */
  readonly energyRange: Range;
}

/** Builds the heatmap + contour marks of a grid (values possibly log-transformed). */
export function landscapeLayer(g: EnergyGrid, style: LandscapeStyle = {}): LandscapeLayer {
  assertKnownOptions('landscapeLayer', style, VIZ_OPTION_KEYS.landscapeStyle);
  const grid = checkGrid(g);
  const levels = checkInt('contourLevels', style.contourLevels ?? 12, 1, 100);
  const { lo, hi, note } = resolveColorRange(grid.values, style.colorRange);
  const clipped = note !== '';
  // energies outside [E_lo, E_hi] take the end colours (and the contours run over the clipped values)
  let shown = Float64Array.from(grid.values, (v) =>
    Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : Number.NaN,
  );
  let label = 'energy E(x)';
  if (style.logScale) {
    const delta = hi > lo ? 1e-3 * (hi - lo) : 1e-10;
    shown = shown.map((v) => Math.log(v - lo + delta));
    label = clipped ? 'ln(E − E_lo + δ)' : 'ln(E − E_min + δ)';
  }
  if (clipped) label += `, E ${note}`;
  if (style.colorLabel !== undefined) {
    if (typeof style.colorLabel !== 'string') {
      throw invalid(
        'colorLabel',
        'colorLabel must be a string.',
        style.colorLabel,
        "pass e.g. colorLabel: 'density'.",
      );
    }
    label = style.colorLabel;
  }
  let dlo = Infinity;
  let dhi = -Infinity;
  for (const v of shown) {
    if (v < dlo) dlo = v;
    if (v > dhi) dhi = v;
  }
  if (!(dhi > dlo)) dhi = dlo + 1;
  const scheme = style.colorScheme ?? 'viridis';
  const color: Plot.ScaleOptions = { type: 'linear', scheme: scheme as Plot.ColorScheme, domain: [dlo, dhi] };
  const extent = {
    width: grid.nx,
    height: grid.ny,
    x1: grid.xRange[0],
    x2: grid.xRange[1],
    y1: grid.yRange[0],
    y2: grid.yRange[1],
  };
  const values = Array.from(shown);
  const marks: Plot.Markish[] = [
    Plot.raster(values, { ...extent, fill: (d: number) => d, imageRendering: 'auto', clip: true }),
  ];
  if (style.contours ?? true) {
    marks.push(
      Plot.contour(values, {
        ...extent,
        thresholds: levels,
        stroke: 'white',
        strokeOpacity: 0.55,
        strokeWidth: 0.8,
        fill: 'none',
        clip: true,
      }),
    );
  }
  return { marks, color, legend: { ...color, label }, shown, domain: [dlo, dhi], energyRange: [lo, hi] };
}

/** Shared panel margins so that stacked panels line up. */
export const MARGINS = { marginLeft: 52, marginRight: 16, marginTop: 22, marginBottom: 40 } as const;

/** Height reserved for a colour legend under a panel. */
export const LEGEND_BAND = 56;

/** Options of {@link plotEnergyLandscape}. */
export interface EnergyLandscapeOptions extends EnergyGridOptions, LandscapeStyle {
  /** Figure title (default `Energy landscape: <name>`). */
  readonly title?: string;
  /** Figure width in pixels (default 560). */
  readonly width?: number;
  /** Figure height in pixels (default 540). */
  readonly height?: number;
}

/** A legend panel for a colour scale at the bottom of a figure. */
export function legendPanel(scale: Plot.ScaleOptions, y: number, width: number): LegendPanel {
  return {
    type: 'legend',
    x: MARGINS.marginLeft,
    y,
    options: {
      color: scale,
      width: Math.min(360, Math.max(160, width - MARGINS.marginLeft - 40)),
      marginLeft: 0,
    },
  };
}

/**
 * 2-D energy landscape: a heatmap of E over `xRange × yRange` with white contour lines and a colour legend
 * (optionally on a log scale). Takes an energy (evaluated with {@link computeEnergyGrid}) or a precomputed grid.
 *
 * @example
 * ```ts
 * const fig = await plotEnergyLandscape(new DoubleWell(), { xRange: [-2, 2], resolution: 120, logScale: true });
 * const svg = toSvg(fig);
 * ```
 */
export async function plotEnergyLandscape(
  source: EnergyFunction | EnergyGrid,
  options: EnergyLandscapeOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotEnergyLandscape', options, VIZ_OPTION_KEYS.energyLandscape);
  const width = checkSize('width', options.width ?? 560, 200);
  const height = checkSize('height', options.height ?? 540, 200);
  const isGrid = source !== null && typeof source === 'object' && 'values' in source;
  const grid = isGrid
    ? checkGrid(source)
    : await computeEnergyGrid(source as EnergyFunction, pickOptions(options, VIZ_OPTION_KEYS.energyGrid));
  const layer = landscapeLayer(grid, pickOptions(options, VIZ_OPTION_KEYS.landscapeStyle));
  const plotHeight = height - TITLE_BAND - LEGEND_BAND;
  const name = isGrid ? 'grid' : (source as EnergyFunction).name;
  const panel: PlotPanel = {
    type: 'plot',
    x: 0,
    y: TITLE_BAND,
    options: {
      ...MARGINS,
      width,
      height: plotHeight,
      x: { domain: [...grid.xRange], label: 'x₁' },
      y: { domain: [...grid.yRange], label: 'x₂' },
      color: layer.color,
      marks: [...layer.marks, Plot.frame()],
    },
  };
  return {
    kind: 'energyLandscape',
    title: options.title ?? `Energy landscape: ${name}`,
    width,
    height,
    panels: [panel, legendPanel(layer.legend, TITLE_BAND + plotHeight + 4, width)],
    texts: [],
    data: {
      grid,
      shown: layer.shown,
      colorDomain: layer.domain,
      energyRange: layer.energyRange,
      logScale: options.logScale ?? false,
    },
  };
}

/** The precomputed grid given as a plot's `energy` option (`undefined` for an energy function, or none). */
export function givenGrid(energy: EnergyFunction | EnergyGrid | undefined): EnergyGrid | undefined {
  return energy !== undefined && 'values' in (energy as object) ? (energy as EnergyGrid) : undefined;
}

/** Resolves an optional energy background: an energy (evaluated on the range) or a grid. */
export async function maybeGrid(
  source: EnergyFunction | EnergyGrid | undefined,
  xRange: Range,
  yRange: Range,
  resolution: number | readonly [number, number] | undefined,
): Promise<EnergyGrid | undefined> {
  if (source === undefined) return undefined;
  if (source !== null && typeof source === 'object' && 'values' in source) return checkGrid(source);
  return computeEnergyGrid(source as EnergyFunction, { xRange, yRange, resolution: resolution ?? 100 });
}
