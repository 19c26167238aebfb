import { optionKeys } from '@ebm/core';
import type { PointStyle } from './data.js';
import type {
  AutocorrelationOptions,
  DiagnosticsTableOptions,
  McmcDiagnosticsOptions,
  RankPlotOptions,
  TraceOptions,
} from './diagnostics.js';
import type { CombineOptions, ToSvgOptions } from './figure.js';
import type { EnergyGridOptions, EnergyLandscapeOptions, LandscapeStyle } from './landscape.js';
import type { ToPngOptions } from './node.js';
import type { ComparisonOptions, GalleryOptions, SamplesOptions } from './samples.js';
import type { EnergyEvolutionOptions, TrainingCurvesOptions } from './training.js';
import type { TrajectoriesOptions } from './trajectories.js';

/**
 * The option names of every options object of `@ebm/viz`, checked complete against their types at compile time
 * (`optionKeys`). Plot functions reject any other name with core's `assertKnownOptions` (`INVALID_PARAM`, with
 * the closest name: `{ max_lag }` → "Did you mean maxLag?").
 * @module
 */

const plot = { name: true, title: true, width: true, height: true } as const;
const point = { color: true, radius: true, opacity: true, rasterThreshold: true, rasterBins: true } as const;
const landscape = {
  logScale: true,
  colorRange: true,
  colorLabel: true,
  contours: true,
  contourLevels: true,
  colorScheme: true,
} as const;
const grid = { xRange: true, yRange: true, resolution: true, batchSize: true } as const;
const svg = { document: true, background: true } as const;

export const VIZ_OPTION_KEYS = {
  pointStyle: optionKeys<PointStyle>(point),
  trace: optionKeys<TraceOptions>({ ...plot, maxPoints: true }),
  autocorrelation: optionKeys<AutocorrelationOptions>({ ...plot, maxLag: true }),
  ranks: optionKeys<RankPlotOptions>({ ...plot, bins: true, columns: true }),
  diagnosticsTable: optionKeys<DiagnosticsTableOptions>({
    title: true,
    width: true,
    rhatThreshold: true,
    minEss: true,
  }),
  mcmcDiagnostics: optionKeys<McmcDiagnosticsOptions>({ ...plot, maxLag: true, bins: true }),
  toSvg: optionKeys<ToSvgOptions>(svg),
  toPng: optionKeys<ToPngOptions>({ ...svg, scale: true }),
  combine: optionKeys<CombineOptions>({ columns: true, title: true }),
  energyGrid: optionKeys<EnergyGridOptions>(grid),
  landscapeStyle: optionKeys<LandscapeStyle>(landscape),
  energyLandscape: optionKeys<EnergyLandscapeOptions>({
    ...grid,
    ...landscape,
    title: true,
    width: true,
    height: true,
  }),
  samples: optionKeys<SamplesOptions>({
    ...landscape,
    ...point,
    energy: true,
    xRange: true,
    yRange: true,
    resolution: true,
    title: true,
    width: true,
    height: true,
  }),
  comparison: optionKeys<ComparisonOptions>({
    ...point,
    labels: true,
    colors: true,
    xRange: true,
    yRange: true,
    bins: true,
    title: true,
    panelSize: true,
  }),
  gallery: optionKeys<GalleryOptions>({ ...point, columns: true, panelSize: true, title: true }),
  trainingCurves: optionKeys<TrainingCurvesOptions>({
    groups: true,
    groupTitles: true,
    smoothing: true,
    maxPoints: true,
    title: true,
    width: true,
    panelHeight: true,
  }),
  energyEvolution: optionKeys<EnergyEvolutionOptions>({
    label: true,
    maxPoints: true,
    title: true,
    width: true,
    height: true,
  }),
  trajectories: optionKeys<TrajectoriesOptions>({
    ...landscape,
    energy: true,
    xRange: true,
    yRange: true,
    resolution: true,
    opacity: true,
    lineWidth: true,
    maxPointsPerChain: true,
    title: true,
    width: true,
    height: true,
  }),
} as const;

/** The entries of `options` whose names are in `keys` (to hand a sub-function only its own options). */
export function pickOptions<T extends object>(options: T, keys: readonly string[]): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (Object.hasOwn(options, k)) out[k] = (options as Record<string, unknown>)[k];
  return out as Partial<T>;
}
