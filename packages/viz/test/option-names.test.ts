import { EbmError } from '@ebm/core';
import { describe, expect, it } from 'vitest';
import {
  combineFigures,
  computeEnergyGrid,
  type Figure,
  landscapeLayer,
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
  pointMarks,
  savePlot,
  toPng,
  toSvg,
} from '../src/node.js';
import { TestDoubleWell } from './helpers.js';

const chains = [
  [0.1, 0.4, -0.3, 0.2, 0.5, -0.1, 0.3, 0.0],
  [0.2, -0.2, 0.1, 0.4, -0.5, 0.2, 0.1, 0.3],
];
const pts = [
  [0, 0],
  [1, 1],
  [0.5, -0.5],
];
const fig = { kind: 'samples', title: 't', width: 100, height: 100, panels: [] } as unknown as Figure;
const energy = new TestDoubleWell();
const grid = { x: [0, 1], y: [0, 1], energy: new Float64Array(4), xRange: [0, 1], yRange: [0, 1] } as never;

/** Every options object of @ebm/viz: [owner, call with options, a misspelt name, the name suggested]. */
const cases: [string, (o: Record<string, unknown>) => unknown, string, string][] = [
  ['plotTrace', (o) => plotTrace(chains, o), 'max_points', 'maxPoints'],
  ['plotAutocorrelation', (o) => plotAutocorrelation(chains, o), 'max_lag', 'maxLag'],
  ['plotRanks', (o) => plotRanks(chains, o), 'n_bins', 'bins'],
  ['plotDiagnosticsTable', (o) => plotDiagnosticsTable({ x: chains }, o), 'rhat_threshold', 'rhatThreshold'],
  ['plotMcmcDiagnostics', (o) => plotMcmcDiagnostics(chains, o), 'maxlag', 'maxLag'],
  ['toSvg', (o) => toSvg(fig, o), 'backgroud', 'background'],
  ['toPng', (o) => toPng(fig, o), 'scal', 'scale'],
  ['savePlot', (o) => savePlot(fig, '/tmp/never.png', o), 'Scale', 'scale'],
  ['combineFigures', (o) => combineFigures([fig], o), 'colums', 'columns'],
  ['computeEnergyGrid', (o) => computeEnergyGrid(energy, o), 'x_range', 'xRange'],
  ['landscapeLayer', (o) => landscapeLayer(grid, o), 'log_scale', 'logScale'],
  ['plotEnergyLandscape', (o) => plotEnergyLandscape(energy, o), 'resolutoin', 'resolution'],
  ['pointMarks', (o) => pointMarks({ x: [0], y: [0] } as never, [0, 1], [0, 1], o), 'raduis', 'radius'],
  ['plotSamples', (o) => plotSamples(pts, o), 'colour', 'color'],
  ['plotSampleComparison', (o) => plotSampleComparison(pts, pts, o), 'panel_size', 'panelSize'],
  [
    'plotDatasetGallery',
    (o) => plotDatasetGallery([{ name: 'a', samples: pts }] as never, o),
    'column',
    'columns',
  ],
  ['plotTrainingCurves', (o) => plotTrainingCurves({ loss: [1, 0.5, 0.2] }, o), 'smooth', 'smoothing'],
  ['plotEnergyEvolution', (o) => plotEnergyEvolution([1, 0.5, 0.2], o), 'lable', 'label'],
  ['plotTrajectories', (o) => plotTrajectories([pts], o), 'line_width', 'lineWidth'],
];

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('@ebm/viz option names', () => {
  it.each(cases)(
    '%s rejects an unknown option and suggests the right name',
    async (owner, call, bad, hint) => {
      const e = await caught(() => call({ [bad]: 1 }));
      expect(e).toBeInstanceOf(EbmError);
      expect((e as EbmError).code).toBe('INVALID_PARAM');
      expect((e as EbmError).argument).toBe(bad);
      expect((e as EbmError).message).toContain(owner);
      expect((e as EbmError).message).toContain(`Did you mean "${hint}"?`);
    },
  );
  it('a non-object options argument is INVALID_PARAM', async () => {
    const e = await caught(() => plotTrace(chains, 5 as never));
    expect((e as EbmError).code).toBe('INVALID_PARAM');
  });
});
