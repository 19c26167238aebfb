/**
 * The bad-input matrix of @ebm/viz: every plot function's data (arrays and tensors: wrong rank / dim / dtype,
 * disposed, NaN), its size options (width, bins, maxLag, resolution: NaN, ±∞, negative, zero, non-integer,
 * huge) and unknown option names must give a clear EbmError and leave no tensor behind (see `badInputCases` in
 * @ebm/core/testing).
 */
import { type BadInputCase, badInputCases, describeBadInputMatrix } from '@ebm/core/testing';
import { describe, it } from 'vitest';
import * as viz from '../src/index.js';
import {
  bin2d,
  combineFigures,
  computeEnergyGrid,
  histogram,
  plotAutocorrelation,
  plotDatasetGallery,
  plotDiagnosticsTable,
  plotEnergyEvolution,
  plotEnergyLandscape,
  plotMcmcDiagnostics,
  plotRanks,
  plotSampleComparison,
  plotSamples,
  plotTrace,
  plotTrainingCurves,
  plotTrajectories,
  poolRanks,
  toSvg,
} from '../src/index.js';
import { TestDoubleWell } from './helpers.js';

const energy = new TestDoubleWell();
const chains = [
  [0.1, 0.4, -0.3, 0.2, 0.5, -0.1, 0.3, 0.0],
  [0.2, -0.2, 0.1, 0.4, -0.5, 0.2, 0.1, 0.3],
];
const pts = [
  [0, 0],
  [1, 1],
  [0.5, -0.5],
];
const size = (_min: number) => ({ type: 'number', min: 'positive', integer: true, huge: 1e9 }) as const;
/** Plots read values: any numeric dtype plots (int32 counts are data), so dtype is not a bad input here. */
const samples = { type: 'tensor', shape: [5, 2], tensorOnly: false, checksDtype: false } as const;
const chainT = {
  type: 'tensor',
  shape: [2, 8],
  checksDim: false,
  tensorOnly: false,
  checksDtype: false,
} as const;

const cases: BadInputCase[] = [
  ...badInputCases('plotSamples', 'samples', samples, (v) => plotSamples(v as never)),
  ...badInputCases('plotSamples', 'width', size(100), (v) => plotSamples(pts, { width: v as number })),
  ...badInputCases('plotSamples', 'options', { type: 'options' }, (v) => plotSamples(pts, v as never)),
  ...badInputCases('plotSampleComparison', 'data', samples, (v) => plotSampleComparison(v as never, pts)),
  ...badInputCases('plotSampleComparison', 'bins', size(2), (v) =>
    plotSampleComparison(pts, pts, { bins: v as number }),
  ),
  ...badInputCases('plotDatasetGallery', 'sets', { type: 'object', wrong: 'x' }, (v) =>
    plotDatasetGallery(v as never),
  ),
  ...badInputCases('plotDatasetGallery', 'columns', size(1), (v) =>
    plotDatasetGallery([{ name: 'a', samples: pts }] as never, { columns: v as number }),
  ),
  ...badInputCases('plotTrace', 'chains', chainT, (v) => plotTrace(v as never)),
  ...badInputCases('plotTrace', 'maxPoints', size(2), (v) => plotTrace(chains, { maxPoints: v as number })),
  ...badInputCases('plotTrace', 'height', size(120), (v) => plotTrace(chains, { height: v as number })),
  ...badInputCases('plotAutocorrelation', 'chains', chainT, (v) => plotAutocorrelation(v as never)),
  ...badInputCases('plotAutocorrelation', 'maxLag', size(1), (v) =>
    plotAutocorrelation(chains, { maxLag: v as number }),
  ),
  ...badInputCases('plotRanks', 'chains', chainT, (v) => plotRanks(v as never)),
  ...badInputCases('plotRanks', 'bins', size(2), (v) => plotRanks(chains, { bins: v as number })),
  ...badInputCases('plotDiagnosticsTable', 'params', { type: 'object', wrong: 'x' }, (v) =>
    plotDiagnosticsTable(v as never),
  ),
  ...badInputCases('plotDiagnosticsTable', 'rhatThreshold', { type: 'number', min: 'positive' }, (v) =>
    plotDiagnosticsTable({ x: chains }, { rhatThreshold: v as number }),
  ),
  ...badInputCases('plotMcmcDiagnostics', 'chains', chainT, (v) => plotMcmcDiagnostics(v as never)),
  ...badInputCases('plotMcmcDiagnostics', 'width', size(200), (v) =>
    plotMcmcDiagnostics(chains, { width: v as number }),
  ),
  ...badInputCases('plotTrainingCurves', 'history', { type: 'object', wrong: 5 }, (v) =>
    plotTrainingCurves(v as never),
  ),
  ...badInputCases(
    'plotTrainingCurves',
    'smoothing',
    { type: 'number', min: 'nonNegative', above: 1.5 },
    (v) => plotTrainingCurves({ loss: [1, 0.5, 0.2] }, { smoothing: v as number }),
  ),
  ...badInputCases(
    'plotEnergyEvolution',
    'energies',
    { type: 'tensor', shape: [6], checksDim: false, tensorOnly: false, checksDtype: false },
    (v) => plotEnergyEvolution(v as never),
    { skip: ['wrong rank'] }, // a [6, 1] tensor is valid ChainsInput (one chain per row)
  ),
  ...badInputCases(
    'plotTrajectories',
    'trajectories',
    { type: 'tensor', shape: [2, 4, 2], tensorOnly: false, checksDtype: false },
    (v) => plotTrajectories(v as never),
  ),
  ...badInputCases('plotEnergyLandscape', 'source', { type: 'object', wrong: 5 }, (v) =>
    plotEnergyLandscape(v as never),
  ),
  ...badInputCases('plotEnergyLandscape', 'resolution', size(2), (v) =>
    plotEnergyLandscape(energy, { resolution: v as number }),
  ),
  ...badInputCases('computeEnergyGrid', 'energy', { type: 'object', wrong: 5 }, (v) =>
    computeEnergyGrid(v as never),
  ),
  ...badInputCases('computeEnergyGrid', 'resolution', size(2), (v) =>
    computeEnergyGrid(energy, { resolution: v as number }),
  ),
  ...badInputCases('computeEnergyGrid', 'xRange', { type: 'object', wrong: [1, 0] }, (v) =>
    computeEnergyGrid(energy, { xRange: v as never }),
  ),
  ...badInputCases('toSvg', 'figure', { type: 'object', wrong: 5 }, (v) => toSvg(v as never)),
  ...badInputCases('combineFigures', 'figures', { type: 'object', wrong: [] }, (v) =>
    combineFigures(v as never),
  ),
  ...badInputCases('histogram', 'bins', size(1), (v) => histogram([0, 1], [0, 1], v as number)),
  ...badInputCases('bin2d', 'nx', size(1), (v) =>
    bin2d({ x: [0], y: [0] } as never, [0, 1], [0, 1], v as number, 4),
  ),
  ...badInputCases('poolRanks', 'chains', { type: 'object', wrong: 'x' }, (v) => poolRanks(v as never)),
];

const EXEMPT: Record<string, string> = {
  TABLEAU10: 'a constant',
  categoryColor: 'any integer index picks a colour (modulo the palette)',
  landscapeLayer: 'takes a grid computeEnergyGrid made (covered); option names: option-names.test.ts',
  pointMarks: 'mark builder on validated points; option names: option-names.test.ts',
};

describeBadInputMatrix({ describe, it }, '@ebm/viz', cases, viz, EXEMPT);
