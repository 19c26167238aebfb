import { autocorrelation, splitRhatEss } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  combineFigures,
  type DiagnosticsRow,
  plotAutocorrelation,
  plotDiagnosticsTable,
  plotMcmcDiagnostics,
  plotRanks,
  plotTrace,
  poolRanks,
} from '../src/index.js';
import { ar1, byAria, expectEbmError, renderBoth } from './helpers.js';

const good = [ar1(1000, 0.5, 21), ar1(1000, 0.5, 22), ar1(1000, 0.5, 23), ar1(1000, 0.5, 24)];
const bad = [ar1(1000, 0.5, 31), ar1(1000, 0.5, 32), ar1(1000, 0.5, 33), ar1(1000, 0.5, 34, 2)];

describe('plotTrace', () => {
  it('draws one line per chain against the iteration', async () => {
    const t = tf.tensor2d(good.flat(), [4, 1000]);
    const fig = await plotTrace(t, { name: 'x₁' });
    t.dispose();
    const { svg, png } = renderBoth(fig, 'trace');
    expect(byAria(svg, 'line')).toBe(4);
    expect(svg).toContain('Trace of x₁');
    expect(svg).toContain('chain 3');
    expect(svg).toContain('iteration');
    expect(png.nonBackground).toBeGreaterThan(0.05 * png.width * png.height);
  });
});

describe('plotAutocorrelation', () => {
  it("shows core's autocorrelation per chain with the white-noise band", async () => {
    const fig = await plotAutocorrelation(good, { maxLag: 40 });
    const acf = fig.data['acf'] as number[][];
    expect(acf[2]).toEqual(Array.from(autocorrelation(good[2]!, 40)));
    expect(acf[0]![1]).toBeGreaterThan(0.35); // AR(1) with φ = 0.5
    expect(acf[0]![1]).toBeLessThan(0.65);
    expect(fig.data['whiteNoiseBand']).toBeCloseTo(1.96 / Math.sqrt(1000), 12);
    const { svg, png } = renderBoth(fig, 'autocorrelation');
    expect(byAria(svg, 'line')).toBe(4);
    expect(byAria(svg, 'area')).toBe(1);
    expect(png.nonBackground).toBeGreaterThan(0.03 * png.width * png.height);
    await expectEbmError(plotAutocorrelation(good, { maxLag: 1000 }), 'INVALID_PARAM', 'maxLag');
  });
});

describe('plotRanks', () => {
  it('histograms pooled ranks per chain: flat when mixed, skewed for a shifted chain', async () => {
    const fig = await plotRanks(bad, { bins: 10 });
    const counts = fig.data['counts'] as number[][];
    expect(counts.length).toBe(4);
    for (const h of counts) expect(h.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(fig.data['expected']).toBe(100);
    // The shifted chain holds most of the top ranks.
    expect(counts[3]![9]!).toBeGreaterThan(250);
    expect(counts[3]![0]!).toBeLessThan(20);
    const { svg, png } = renderBoth(fig, 'ranks');
    expect(byAria(svg, 'rect')).toBe(4);
    expect(byAria(svg, 'rule')).toBe(4);
    expect(png.nonBackground).toBeGreaterThan(0.05 * png.width * png.height);
    expect(
      Array.from(
        poolRanks([
          [3, 1],
          [2, 2],
        ])[0]!,
      ),
    ).toEqual([4, 1]);
    expect(
      Array.from(
        poolRanks([
          [3, 1],
          [2, 2],
        ])[1]!,
      ),
    ).toEqual([2.5, 2.5]);
  });
});

describe('plotDiagnosticsTable', () => {
  it("tabulates core's split-R̂ and ESS and flags bad quantities", async () => {
    const fig = await plotDiagnosticsTable({ good, bad });
    const rows = fig.data['rows'] as DiagnosticsRow[];
    const ref = splitRhatEss(good);
    expect(rows[0]!.name).toBe('good');
    expect(rows[0]!.rhat).toBe(ref.rhat);
    expect(rows[0]!.essBulk).toBe(ref.essBulk);
    expect(rows[0]!.essTail).toBe(ref.essTail);
    expect(rows[0]!.rhat).toBeLessThan(1.01);
    expect(rows[1]!.rhat).toBeGreaterThan(1.1);
    const { svg, png } = renderBoth(fig, 'diagnostics-table');
    for (const t of ['R̂', 'ESS bulk', 'ESS tail', 'good', 'bad', rows[0]!.rhat.toFixed(3)])
      expect(svg).toContain(t);
    expect(svg).toContain('#fcbba1'); // a flagged cell
    expect(svg).toContain('#d9f0d3'); // a good cell
    expect(png.nonBackground).toBeGreaterThan(0.05 * png.width * png.height);
  });

  it('rejects empty input, short chains and mismatched lengths', async () => {
    await expectEbmError(plotDiagnosticsTable({}), 'INVALID_PARAM', 'quantities');
    await expectEbmError(plotDiagnosticsTable({ a: [[1, 2, 3]] }), 'INVALID_PARAM', 'quantities.a');
    await expectEbmError(
      plotDiagnosticsTable({
        a: [
          [1, 2, 3, 4],
          [1, 2, 3],
        ],
      }),
      'SHAPE_MISMATCH',
      'quantities.a',
    );
    await expectEbmError(plotTrace([]), 'INVALID_PARAM', 'chains');
    await expectEbmError(plotTrace([[1, Number.NaN]]), 'NON_FINITE');
    await expectEbmError(plotRanks([[1]]), 'INVALID_PARAM', 'chains');
  });
});

describe('plotMcmcDiagnostics / combineFigures', () => {
  it('puts trace, autocorrelation, ranks and the R̂/ESS table on one sheet', async () => {
    const fig = await plotMcmcDiagnostics(bad, { name: 'x₁', maxLag: 30, bins: 8 });
    expect(fig.kind).toBe('mcmcDiagnostics');
    const parts = fig.data['figures'] as { kind: string }[];
    expect(parts.map((p) => p.kind)).toEqual(['trace', 'autocorrelation', 'rank', 'diagnosticsTable']);
    const { svg, png } = renderBoth(fig, 'mcmc-diagnostics');
    for (const t of ['Trace of x₁', 'Autocorrelation of x₁', 'Rank plots of x₁', 'R̂', 'ESS bulk'])
      expect(svg).toContain(t);
    expect(byAria(svg, 'line')).toBe(8); // 4 trace + 4 acf
    expect(byAria(svg, 'rect')).toBe(4); // rank histograms
    expect(byAria(svg, 'cell')).toBe(1);
    expect(png.nonBackground).toBeGreaterThan(0.05 * png.width * png.height);
    await expectEbmError(plotMcmcDiagnostics([[1, 2, 3]]), 'INVALID_PARAM', 'chains');
  });

  it('stacks figures in columns, offsetting their panels', async () => {
    const a = await plotTrace(good, { width: 300, height: 200 });
    const b = await plotTrace(bad, { width: 400, height: 250 });
    const sheet = combineFigures([a, b, a], { columns: 2, title: 'sheet' });
    expect(sheet.width).toBe(700);
    expect(sheet.height).toBe(32 + 250 + 200);
    expect(sheet.panels[1]!.x).toBe(b.panels[0]!.x + 300);
    expect(sheet.panels[2]!.y).toBe(a.panels[0]!.y + 32 + 250);
    renderBoth(sheet, 'combined');
    expect(() => combineFigures([])).toThrow(/INVALID_PARAM/);
    expect(() => combineFigures([a], { columns: 0 })).toThrow(/INVALID_PARAM/);
  });
});
