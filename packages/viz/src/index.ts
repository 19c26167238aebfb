/**
 * `@ebm/viz`: plots for energy-based models — energy landscapes, samples, trajectories, training curves and MCMC
 * diagnostics. Every plot function returns a {@link Figure} (plain data + Observable Plot options) that
 * {@link toSvg} renders in the browser; in Node use `@ebm/viz/node` for `toSvg`, `toPng` and `savePlot`.
 * @module
 */
export {
  bin2d,
  type ChainsInput,
  type PointStyle,
  type Points2D,
  pointMarks,
  type Range,
  type Series,
  type TrajectoriesInput,
  type XY,
} from './data.js';
export {
  type AutocorrelationOptions,
  type DiagnosticPlotOptions,
  type DiagnosticsRow,
  type DiagnosticsTableOptions,
  type McmcDiagnosticsOptions,
  plotAutocorrelation,
  plotDiagnosticsTable,
  plotMcmcDiagnostics,
  plotRanks,
  plotTrace,
  poolRanks,
  type RankPlotOptions,
  type TraceOptions,
} from './diagnostics.js';
export {
  type CombineOptions,
  combineFigures,
  type Figure,
  type FigureKind,
  type LegendPanel,
  type PlotPanel,
  type TextItem,
  type ToSvgOptions,
  toSvg,
} from './figure.js';
export {
  type ColorRange,
  computeEnergyGrid,
  type EnergyGrid,
  type EnergyGridOptions,
  type EnergyLandscapeOptions,
  type LandscapeLayer,
  type LandscapeStyle,
  landscapeLayer,
  plotEnergyLandscape,
} from './landscape.js';
export { categoryColor, TABLEAU10 } from './palette.js';
export {
  type ComparisonOptions,
  type GalleryOptions,
  histogram,
  plotDatasetGallery,
  plotSampleComparison,
  plotSamples,
  type SamplesOptions,
} from './samples.js';
export {
  type EnergyEvolutionOptions,
  plotEnergyEvolution,
  plotTrainingCurves,
  type TrainingCurvesOptions,
  type TrainingHistory,
} from './training.js';
export { plotTrajectories, type TrajectoriesOptions } from './trajectories.js';
