import { expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { bin2d, histogram, plotDatasetGallery, plotSampleComparison, plotSamples } from '../src/index.js';
import { byAria, elementCount, expectEbmError, normals, renderBoth, TestDoubleWell } from './helpers.js';

function cloud(n: number, seed: number, dx = 0): number[][] {
  const z = normals(2 * n, seed);
  return Array.from({ length: n }, (_, i) => [
    (i % 2 ? 1 : -1) + 0.25 * z[2 * i]! + dx,
    0.5 + 0.6 * z[2 * i + 1]!,
  ]);
}

describe('plotSamples', () => {
  it('draws one dot per sample below the raster threshold, over the landscape', async () => {
    const pts = cloud(300, 1);
    const fig = await plotSamples(pts, {
      energy: new TestDoubleWell(),
      xRange: [-2, 2],
      yRange: [-2, 3],
      resolution: 50,
    });
    const { svg, png } = renderBoth(fig, 'samples-small');
    expect(byAria(svg, 'dot')).toBe(1);
    const dots = svg.split('aria-label="dot"')[1]!.split('</g>')[0]!;
    expect((dots.match(/<circle|<path/g) ?? []).length).toBe(300);
    expect(byAria(svg, 'raster')).toBe(1); // the energy heatmap only
    expect(svg).toContain('Samples (n = 300)');
    expect(png.nonBackground).toBeGreaterThan(0.4 * png.width * png.height);
  });

  it('draws 50k samples as one raster image: far fewer SVG elements than points', async () => {
    const pts = cloud(50_000, 2);
    const t = tf.tensor2d(pts.flat(), [50_000, 2]);
    const fig = await expectNoLeaks(() => plotSamples(t, { xRange: [-2, 2], yRange: [-2, 3] }));
    t.dispose();
    expect(fig.data['raster']).toBe(true);
    const { svg, png } = renderBoth(fig, 'samples-50k');
    expect(elementCount(svg)).toBeLessThan(500);
    expect(svg.length).toBeLessThan(400_000);
    expect(byAria(svg, 'raster')).toBe(1);
    expect(byAria(svg, 'dot')).toBe(0);
    // The two clusters are red; the gap between them at x = 0 stays white.
    const px = (x: number) => Math.round(52 + ((x + 2) / 4) * 492);
    const py = (y: number) => Math.round(32 + 22 + (1 - (y + 2) / 5) * (540 - 32 - 8 - 62));
    const c = png.pixel(px(-1), py(0.5));
    expect(c[0]).toBeGreaterThan(150);
    expect(c[1]).toBeLessThan(120);
    expect(png.pixel(px(0), py(0.5))).toEqual([255, 255, 255]);
  });

  it('bins points with row 0 at the bottom', () => {
    const counts = bin2d(
      { x: Float64Array.of(0.1, 0.9, 0.9, 1), y: Float64Array.of(0.1, 0.9, 0.8, 1) },
      [0, 1],
      [0, 1],
      2,
      2,
    );
    expect(Array.from(counts)).toEqual([1, 0, 0, 3]);
    expect(histogram([0, 0.5, 1, 2, -1], [0, 1], 2)).toEqual([1, 2]);
  });

  it('rejects empty, mismatched, non-finite and mis-shaped samples', async () => {
    await expectEbmError(plotSamples([]), 'INVALID_PARAM', 'samples');
    await expectEbmError(plotSamples({ x: [1, 2], y: [1] }), 'SHAPE_MISMATCH', 'samples');
    await expectEbmError(plotSamples([[1, 2], [3]]), 'SHAPE_MISMATCH', 'samples');
    await expectEbmError(plotSamples([[1, Number.NaN]]), 'NON_FINITE');
    const t3 = tf.zeros([4, 3]) as tf.Tensor2D;
    await expectEbmError(plotSamples(t3), 'SHAPE_MISMATCH', 'samples');
    t3.dispose();
    await expectEbmError(plotSamples('abc' as never), 'INVALID_PARAM', 'samples');
    await expectEbmError(plotSamples([[0, 0]], { xRange: [0, 0] }), 'INVALID_PARAM', 'xRange');
    await expectEbmError(
      plotSamples([[0, 0]], { rasterThreshold: 1, rasterBins: 3 }),
      'INVALID_PARAM',
      'rasterBins',
    );
  });
});

describe('plotSampleComparison', () => {
  it('puts data and model side by side with marginal histograms on shared axes', async () => {
    const data = cloud(2000, 3);
    const model = cloud(20_000, 4, 0.3);
    const fig = await plotSampleComparison(data, model, { bins: 30 });
    const hist = fig.data['histograms'] as Record<string, { x: number[]; y: number[] }>;
    expect(hist['data']!.x.length).toBe(30);
    expect(hist['data']!.x.reduce((a, b) => a + b, 0)).toBe(2000); // shared range covers all points
    expect(hist['model']!.y.reduce((a, b) => a + b, 0)).toBe(20_000);
    const { svg, png } = renderBoth(fig, 'comparison');
    expect(svg).toContain('data (n = 2000)');
    expect(svg).toContain('model (n = 20000)');
    expect(byAria(svg, 'rect')).toBe(4); // 2 marginals per set
    expect(byAria(svg, 'dot')).toBe(1); // data: vector dots
    expect(byAria(svg, 'raster')).toBe(1); // model: raster
    expect(elementCount(svg)).toBeLessThan(2000 + 800);
    expect(png.nonBackground).toBeGreaterThan(0.05 * png.width * png.height);
  });

  it('rejects bad inputs', async () => {
    await expectEbmError(plotSampleComparison([[0, 0]], []), 'INVALID_PARAM', 'model');
    await expectEbmError(plotSampleComparison([[0, 0]], [[1, 1]], { bins: 1 }), 'INVALID_PARAM', 'bins');
  });
});

describe('plotDatasetGallery', () => {
  it('lays out one panel per named point set', async () => {
    const sets = { moons: cloud(500, 5), big: cloud(60_000, 6), tiny: cloud(7, 7) };
    const fig = await plotDatasetGallery(sets, { columns: 2 });
    expect(fig.panels.length).toBe(3);
    expect(fig.data['rows']).toBe(2);
    const { svg, png } = renderBoth(fig, 'gallery');
    for (const n of ['moons (n = 500)', 'big (n = 60000)', 'tiny (n = 7)']) expect(svg).toContain(n);
    expect(byAria(svg, 'dot')).toBe(2);
    expect(byAria(svg, 'raster')).toBe(1);
    expect(byAria(svg, 'frame')).toBe(3);
    expect(elementCount(svg)).toBeLessThan(1500);
    expect(png.nonBackground).toBeGreaterThan(0.05 * png.width * png.height);
    const arr = await plotDatasetGallery([{ name: 'a', points: { x: [0, 1], y: [1, 0] } }]);
    expect(arr.panels.length).toBe(1);
  });

  it('rejects an empty gallery and bad sets', async () => {
    await expectEbmError(plotDatasetGallery({}), 'INVALID_PARAM', 'datasets');
    await expectEbmError(plotDatasetGallery({ a: [] }), 'INVALID_PARAM', 'datasets.a');
    await expectEbmError(plotDatasetGallery({ a: [[0, 0]] }, { columns: 0 }), 'INVALID_PARAM', 'columns');
  });
});
