import type { EnergyFunction } from '@ebm/core';
import { assertKnownOptions } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import {
  axisRanges,
  checkInt,
  checkRange,
  checkSize,
  invalid,
  type PointStyle,
  type Points2D,
  paddedExtent,
  pointMarks,
  type Range,
  toXY,
} from './data.js';
import { type Figure, type PlotPanel, type TextItem, TITLE_BAND } from './figure.js';
import {
  type EnergyGrid,
  givenGrid,
  type LandscapeStyle,
  LEGEND_BAND,
  landscapeLayer,
  legendPanel,
  MARGINS,
  maybeGrid,
} from './landscape.js';
import { pickOptions, VIZ_OPTION_KEYS } from './option-keys.js';

/** Options of {@link plotSamples}. */
export interface SamplesOptions extends LandscapeStyle, PointStyle {
  /** Energy (or precomputed grid) drawn underneath the samples. */
  readonly energy?: EnergyFunction | EnergyGrid;
  /** x interval (default: the samples' extent padded by 10 %, or the grid's range). */
  readonly xRange?: Range;
  /** y interval (default as for x). */
  readonly yRange?: Range;
  /** Grid resolution of the energy background (default 100). */
  readonly resolution?: number | readonly [number, number];
  readonly title?: string;
  /** Figure width in pixels (default 560). */
  readonly width?: number;
  /** Figure height in pixels (default 540). */
  readonly height?: number;
}

/**
 * Samples as a scatter plot, optionally over the energy landscape (heatmap + contours + colour legend).
 * From `rasterThreshold` points on (default 5000) the cloud is drawn as one binned raster image, so 50k+
 * points stay fast and the SVG small.
 */
export async function plotSamples(samples: Points2D, options: SamplesOptions = {}): Promise<Figure> {
  assertKnownOptions('plotSamples', options, VIZ_OPTION_KEYS.samples);
  const width = checkSize('width', options.width ?? 560, 200);
  const height = checkSize('height', options.height ?? 540, 200);
  const xy = await toXY('samples', samples);
  const { xr, yr } = axisRanges([xy], givenGrid(options.energy), options.xRange, options.yRange);
  const grid = await maybeGrid(options.energy, xr, yr, options.resolution);
  const layer = grid ? landscapeLayer(grid, pickOptions(options, VIZ_OPTION_KEYS.landscapeStyle)) : undefined;
  const plotHeight = height - TITLE_BAND - (layer ? LEGEND_BAND : 8);
  const panel: PlotPanel = {
    type: 'plot',
    x: 0,
    y: TITLE_BAND,
    options: {
      ...MARGINS,
      width,
      height: plotHeight,
      x: { domain: [...xr], label: 'x₁' },
      y: { domain: [...yr], label: 'x₂' },
      ...(layer ? { color: layer.color } : {}),
      marks: [
        ...(layer?.marks ?? []),
        ...pointMarks(xy, xr, yr, pickOptions(options, VIZ_OPTION_KEYS.pointStyle)),
        Plot.frame(),
      ],
    },
  };
  const n = xy.x.length;
  return {
    kind: 'samples',
    title: options.title ?? `Samples (n = ${n})`,
    width,
    height,
    panels: layer ? [panel, legendPanel(layer.legend, TITLE_BAND + plotHeight + 4, width)] : [panel],
    texts: [],
    data: { n, xRange: xr, yRange: yr, grid, raster: n >= (options.rasterThreshold ?? 5000) },
  };
}

/** Options of {@link plotSampleComparison}. */
export interface ComparisonOptions extends PointStyle {
  /** Panel titles (default `['data', 'model']`). */
  readonly labels?: readonly [string, string];
  /** Colours of the two sets (default blue and orange). */
  readonly colors?: readonly [string, string];
  /** Shared x interval (default: the joint extent padded by 10 %). */
  readonly xRange?: Range;
  /** Shared y interval. */
  readonly yRange?: Range;
  /** Histogram bins of the marginals (default 40). */
  readonly bins?: number;
  readonly title?: string;
  /** Size of each square scatter panel in pixels (default 320). */
  readonly panelSize?: number;
}

const MARGINAL = 70;

/**
 * Data vs model samples side by side, each scatter with marginal histograms of x₁ (top) and x₂ (right), on
 * shared axes so the two can be compared by eye. Large clouds are drawn raster (see {@link PointStyle}).
 */
export async function plotSampleComparison(
  data: Points2D,
  model: Points2D,
  options: ComparisonOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotSampleComparison', options, VIZ_OPTION_KEYS.comparison);
  const a = await toXY('data', data);
  const b = await toXY('model', model);
  const size = checkSize('panelSize', options.panelSize ?? 320, 120);
  const bins = checkInt('bins', options.bins ?? 40, 2, 500);
  const labels = options.labels ?? ['data', 'model'];
  const colors = options.colors ?? ['#1f77b4', '#ff7f0e'];
  const { xr, yr } = axisRanges([a, b], undefined, options.xRange, options.yRange);
  const blockW = MARGINS.marginLeft + size + MARGINS.marginRight + MARGINAL + 24;
  const panels: PlotPanel[] = [];
  const texts: TextItem[] = [];
  const histCounts: number[][] = [];
  const sets = [a, b];
  const xThresholds = Array.from({ length: bins + 1 }, (_, i) => xr[0] + ((xr[1] - xr[0]) * i) / bins);
  const yThresholds = Array.from({ length: bins + 1 }, (_, i) => yr[0] + ((yr[1] - yr[0]) * i) / bins);
  const mainH = size + MARGINS.marginTop + MARGINS.marginBottom;
  for (let k = 0; k < 2; k++) {
    const xy = sets[k]!;
    const color = colors[k]!;
    const x0 = k * blockW;
    const top = TITLE_BAND + 22;
    texts.push({
      x: x0 + MARGINS.marginLeft + size / 2,
      y: TITLE_BAND + 12,
      text: `${labels[k]} (n = ${xy.x.length})`,
      size: 13,
      anchor: 'middle',
      bold: true,
    });
    const hx = histogram(xy.x, xr, bins);
    const hy = histogram(xy.y, yr, bins);
    histCounts.push(hx, hy);
    panels.push({
      type: 'plot',
      x: x0,
      y: top,
      options: {
        marginLeft: MARGINS.marginLeft,
        marginRight: MARGINS.marginRight,
        marginTop: 4,
        marginBottom: 2,
        width: MARGINS.marginLeft + size + MARGINS.marginRight,
        height: MARGINAL,
        x: { domain: [...xr], axis: null },
        y: { label: null, ticks: 2, grid: true, tickFormat: '~s' },
        marks: [
          Plot.rectY(hx, {
            x1: (_d: number, i: number) => xThresholds[i],
            x2: (_d: number, i: number) => xThresholds[i + 1],
            y: (d: number) => d,
            fill: color,
            fillOpacity: 0.8,
            insetLeft: 0.5,
          }),
          Plot.ruleY([0]),
        ],
      },
    });
    panels.push({
      type: 'plot',
      x: x0,
      y: top + MARGINAL,
      options: {
        ...MARGINS,
        width: MARGINS.marginLeft + size + MARGINS.marginRight,
        height: mainH,
        x: { domain: [...xr], label: 'x₁' },
        y: { domain: [...yr], label: 'x₂' },
        marks: [
          ...pointMarks(xy, xr, yr, { ...pickOptions(options, VIZ_OPTION_KEYS.pointStyle), color }),
          Plot.frame(),
        ],
      },
    });
    panels.push({
      type: 'plot',
      x: x0 + MARGINS.marginLeft + size + MARGINS.marginRight - 8,
      y: top + MARGINAL,
      options: {
        marginLeft: 2,
        marginRight: 8,
        marginTop: MARGINS.marginTop,
        marginBottom: MARGINS.marginBottom,
        width: MARGINAL + 10,
        height: mainH,
        y: { domain: [...yr], axis: null },
        x: { label: null, ticks: 2, grid: true, tickFormat: '~s' },
        marks: [
          Plot.rectX(hy, {
            y1: (_d: number, i: number) => yThresholds[i],
            y2: (_d: number, i: number) => yThresholds[i + 1],
            x: (d: number) => d,
            fill: color,
            fillOpacity: 0.8,
            insetTop: 0.5,
          }),
          Plot.ruleX([0]),
        ],
      },
    });
  }
  return {
    kind: 'sampleComparison',
    title: options.title ?? `${labels[0]} vs ${labels[1]}`,
    width: 2 * blockW,
    height: TITLE_BAND + 22 + MARGINAL + mainH + 4,
    panels,
    texts,
    data: {
      xRange: xr,
      yRange: yr,
      histograms: {
        [labels[0]]: { x: histCounts[0], y: histCounts[1] },
        [labels[1]]: { x: histCounts[2], y: histCounts[3] },
      },
    },
  };
}

/** Counts of `v` in `bins` equal bins over `range` (values outside are dropped; the top edge is included). */
export function histogram(v: ArrayLike<number>, range: Range, bins: number): number[] {
  checkInt('bins', bins, 1, 1e5);
  checkRange('range', range);
  const out = new Array<number>(bins).fill(0);
  const s = bins / (range[1] - range[0]);
  for (let i = 0; i < v.length; i++) {
    let k = Math.floor((v[i]! - range[0]) * s);
    if (k === bins && v[i] === range[1]) k = bins - 1;
    if (k >= 0 && k < bins) out[k]! += 1;
  }
  return out;
}

/** Options of {@link plotDatasetGallery}. */
export interface GalleryOptions extends PointStyle {
  /** Panels per row (default 4). */
  readonly columns?: number;
  /** Size of each square panel in pixels (default 190). */
  readonly panelSize?: number;
  readonly title?: string;
}

/**
 * A dataset gallery: one small scatter panel per named point set on a grid, each with its own axes. The
 * caller passes the points (e.g. from `@ebm/datasets` generators); large sets are drawn raster.
 *
 * @example
 * ```ts
 * const fig = await plotDatasetGallery({ moons: moonsPoints, rings: ringsPoints }, { columns: 2 });
 * ```
 */
export async function plotDatasetGallery(
  datasets:
    | Readonly<Record<string, Points2D>>
    | readonly { readonly name: string; readonly points: Points2D }[],
  options: GalleryOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotDatasetGallery', options, VIZ_OPTION_KEYS.gallery);
  const entries: [string, Points2D][] = Array.isArray(datasets)
    ? (datasets as readonly { name: string; points: Points2D }[]).map((d) => [String(d?.name), d?.points])
    : datasets !== null && typeof datasets === 'object'
      ? Object.entries(datasets as Record<string, Points2D>)
      : [];
  if (entries.length === 0) {
    throw invalid(
      'datasets',
      'datasets is empty.',
      datasets,
      'pass at least one named point set, e.g. { moons: points }.',
    );
  }
  const columns = checkInt('columns', options.columns ?? 4, 1, 64);
  const size = checkSize('panelSize', options.panelSize ?? 190, 80);
  const cols = Math.min(columns, entries.length);
  const rows = Math.ceil(entries.length / cols);
  const cellW = size + 40;
  const cellH = size + 52;
  const panels: PlotPanel[] = [];
  const texts: TextItem[] = [];
  const counts: Record<string, number> = {};
  for (let i = 0; i < entries.length; i++) {
    const [name, pts] = entries[i]!;
    const xy = await toXY(`datasets.${name}`, pts);
    counts[name] = xy.x.length;
    const xr = paddedExtent([xy.x], 0.08);
    const yr = paddedExtent([xy.y], 0.08);
    const x0 = (i % cols) * cellW;
    const y0 = TITLE_BAND + Math.floor(i / cols) * cellH;
    texts.push({
      x: x0 + 36 + size / 2,
      y: y0 + 14,
      text: `${name} (n = ${xy.x.length})`,
      size: 12,
      anchor: 'middle',
      bold: true,
    });
    panels.push({
      type: 'plot',
      x: x0,
      y: y0 + 20,
      options: {
        marginLeft: 36,
        marginRight: 4,
        marginTop: 4,
        marginBottom: 24,
        width: size + 40,
        height: size + 28,
        x: { domain: [...xr], ticks: 4, label: null },
        y: { domain: [...yr], ticks: 4, label: null },
        marks: [
          ...pointMarks(xy, xr, yr, {
            radius: 1.4,
            color: '#1f77b4',
            ...pickOptions(options, VIZ_OPTION_KEYS.pointStyle),
          }),
          Plot.frame(),
        ],
      },
    });
  }
  return {
    kind: 'datasetGallery',
    title: options.title ?? 'Datasets',
    width: cols * cellW,
    height: TITLE_BAND + rows * cellH,
    panels,
    texts,
    data: { counts, columns: cols, rows },
  };
}
