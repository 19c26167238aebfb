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

/** Options of the landscape layer shared by every plot with an energy background. */
export interface LandscapeStyle {
  /** Colour by `ln(E − E_min + δ)` with `δ = 10⁻³ (E_max − E_min)` (or 10⁻¹⁰ when flat) instead of `E`. */
  readonly logScale?: boolean;
  /** Draw contour lines (default true). */
  readonly contours?: boolean;
  /** Number of contour levels (default 12). */
  readonly contourLevels?: number;
  /** Sequential Observable Plot colour scheme (default `'viridis'`). */
  readonly colorScheme?: string;
}

/** The energy-background layer: raster heatmap, contours, colour scale and its legend. */
export interface LandscapeLayer {
  readonly marks: Plot.Markish[];
  readonly color: Plot.ScaleOptions;
  readonly legend: Plot.ScaleOptions;
  readonly shown: Float64Array;
  readonly domain: Range;
}

/** Builds the heatmap + contour marks of a grid (values possibly log-transformed). */
export function landscapeLayer(g: EnergyGrid, style: LandscapeStyle = {}): LandscapeLayer {
  assertKnownOptions('landscapeLayer', style, VIZ_OPTION_KEYS.landscapeStyle);
  const grid = checkGrid(g);
  const levels = checkInt('contourLevels', style.contourLevels ?? 12, 1, 100);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of grid.values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi >= lo)) {
    throw new EbmError('NON_FINITE', 'grid holds no finite energy.', {
      argument: 'grid.values',
      value: grid.values.length,
      fix: 'choose a range where the energy is finite.',
    });
  }
  let shown = Float64Array.from(grid.values);
  let label = 'energy E(x)';
  if (style.logScale) {
    const delta = hi > lo ? 1e-3 * (hi - lo) : 1e-10;
    shown = shown.map((v) => Math.log(v - lo + delta));
    label = 'ln(E − E_min + δ)';
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
  return { marks, color, legend: { ...color, label }, shown, domain: [dlo, dhi] };
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
    data: { grid, shown: layer.shown, colorDomain: layer.domain, logScale: options.logScale ?? false },
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
