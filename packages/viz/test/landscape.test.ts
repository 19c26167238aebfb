import { BaseEnergy } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { computeEnergyGrid, plotEnergyLandscape, plotSamples } from '../src/index.js';
import { byAria, doubleWell, expectEbmError, Quadratic3, renderBoth, TestDoubleWell } from './helpers.js';

const energy = new TestDoubleWell();

class NaNEnergy extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.div(tf.sum(tf.mul(x, 0), 1), tf.scalar(0)) as tf.Tensor1D; // 0/0 everywhere
  }
}

describe('computeEnergyGrid', () => {
  it('evaluates E at cell centres, row 0 at the bottom, in any batch size', async () => {
    const grid = await computeEnergyGrid(energy, { xRange: [-2, 2], yRange: [-1, 3], resolution: [8, 5] });
    expect(grid.nx).toBe(8);
    expect(grid.ny).toBe(5);
    expect(grid.values.length).toBe(40);
    for (let j = 0; j < 5; j++) {
      for (let i = 0; i < 8; i++) {
        const x = -2 + (i + 0.5) * 0.5;
        const y = -1 + (j + 0.5) * 0.8;
        expect(grid.values[j * 8 + i]).toBeCloseTo(doubleWell(x, y), 4);
      }
    }
    const small = await computeEnergyGrid(energy, {
      xRange: [-2, 2],
      yRange: [-1, 3],
      resolution: [8, 5],
      batchSize: 3,
    });
    expect(Array.from(small.values)).toEqual(Array.from(grid.values));
  });

  it('leaves no tensors behind', async () => {
    await expectNoLeaks(() => computeEnergyGrid(energy, { resolution: 30, batchSize: 100 }));
    await expectNoLeaks(() => plotEnergyLandscape(energy, { resolution: 20, batchSize: 64 }));
  });

  it('rejects bad ranges, resolutions, dimensions and energies', async () => {
    await expectEbmError(computeEnergyGrid(energy, { xRange: [1, 1] }), 'INVALID_PARAM', 'xRange');
    await expectEbmError(computeEnergyGrid(energy, { yRange: [0, Number.NaN] }), 'INVALID_PARAM', 'yRange');
    await expectEbmError(
      computeEnergyGrid(energy, { xRange: [2, -2] as unknown as [number, number] }),
      'INVALID_PARAM',
    );
    await expectEbmError(computeEnergyGrid(energy, { resolution: 1 }), 'INVALID_PARAM', 'resolution');
    await expectEbmError(computeEnergyGrid(energy, { resolution: 2.5 }), 'INVALID_PARAM', 'resolution');
    await expectEbmError(computeEnergyGrid(energy, { batchSize: 0 }), 'INVALID_PARAM', 'batchSize');
    await expectEbmError(computeEnergyGrid(new Quadratic3()), 'SHAPE_MISMATCH', 'energy');
    await expectEbmError(computeEnergyGrid({} as never), 'INVALID_PARAM', 'energy');
    await expectEbmError(computeEnergyGrid(new NaNEnergy(), { resolution: 4 }), 'NON_FINITE', 'energy');
    await expectEbmError(plotEnergyLandscape(energy, { width: 10 }), 'INVALID_PARAM', 'width');
    await expectEbmError(
      plotEnergyLandscape(energy, { contourLevels: 0, resolution: 4 }),
      'INVALID_PARAM',
      'contourLevels',
    );
  });
});

class HalfNaN extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.add(
      tf.sqrt(tf.reshape(tf.slice(x, [0, 0], [-1, 1]), [-1])),
      tf.sum(tf.square(x), 1),
    ) as tf.Tensor1D;
  }
}

describe('plotEnergyLandscape', () => {
  it('draws non-finite energies (here x₁ < 0) as transparent and still draws contours', async () => {
    const fig = await plotEnergyLandscape(new HalfNaN({ dim: 2 }), { xRange: [-1, 1], resolution: 40 });
    const grid = fig.data['grid'] as { values: Float64Array };
    expect(Number.isNaN(grid.values[0])).toBe(true);
    expect(Number.isFinite(grid.values[39])).toBe(true);
    const { svg, png } = renderBoth(fig, 'landscape-nan');
    expect(byAria(svg, 'contour')).toBe(1);
    expect(png.pixel(100, 250)).toEqual([255, 255, 255]); // left half: no energy, white background
    expect(png.pixel(450, 250)[0]).toBeLessThan(250); // right half: coloured
  });

  it('renders a heatmap with contours, axes, title and colour legend to SVG and PNG', async () => {
    const fig = await plotEnergyLandscape(energy, { xRange: [-2, 2], yRange: [-2, 3], resolution: 80 });
    expect(fig.kind).toBe('energyLandscape');
    expect(fig.title).toBe('Energy landscape: TestDoubleWell');
    const { svg, png } = renderBoth(fig, 'landscape');
    expect(byAria(svg, 'raster')).toBe(1);
    expect(byAria(svg, 'contour')).toBe(1);
    expect(byAria(svg, 'x-axis tick label')).toBe(1);
    expect(byAria(svg, 'y-axis tick label')).toBe(1);
    expect(svg).toContain('x₁');
    expect(svg).toContain('x₂');
    expect(svg).toContain('energy E(x)'); // legend label
    expect((svg.match(/<image/g) ?? []).length).toBe(2); // heatmap + legend ramp
    const contourPaths = svg.split('aria-label="contour"')[1]!.split('</g>')[0]!.match(/<path/g) ?? [];
    expect(contourPaths.length).toBeGreaterThanOrEqual(5);
    expect(png.nonBackground).toBeGreaterThan(0.5 * png.width * png.height);
    expect(png.colours).toBeGreaterThan(50);
    // Pixel of a data point: panel at y = 32, margins l 52 r 16 t 22 b 40, panel height 540 − 32 − 56.
    const px = (x: number) => Math.round(52 + ((x + 2) / 4) * (560 - 68));
    const py = (y: number) => Math.round(32 + 22 + (1 - (y + 2) / 5) * (452 - 62));
    const well = png.pixel(px(-1), py(0.5)); // minimum: dark viridis (purple)
    expect(well[0]).toBeLessThan(90);
    expect(well[1]).toBeLessThan(60);
    expect(well[2]).toBeGreaterThan(well[1]);
    const corner = png.pixel(px(1.95), py(-1.9)); // high energy: bright yellow-green
    expect(corner[1]).toBeGreaterThan(170);
    expect(corner[2]).toBeLessThan(130);
  });

  it('uses a log colour scale ln(E − E_min + δ) and accepts a precomputed grid', async () => {
    const grid = await computeEnergyGrid(energy, { xRange: [-2, 2], resolution: 40 });
    const fig = await plotEnergyLandscape(grid, { logScale: true, contours: false });
    const shown = fig.data['shown'] as Float64Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of grid.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const delta = 1e-3 * (hi - lo);
    expect(shown[123]).toBeCloseTo(Math.log(grid.values[123]! - lo + delta), 10);
    const domain = fig.data['colorDomain'] as [number, number];
    expect(domain[0]).toBeCloseTo(Math.log(delta), 6);
    const { svg, png } = renderBoth(fig, 'landscape-log');
    expect(byAria(svg, 'contour')).toBe(0);
    expect(svg).toContain('ln(E − E_min + δ)');
    expect(png.nonBackground).toBeGreaterThan(0.5 * png.width * png.height);
  });

  it('clips the colour range to quantiles or fixed energies (a narrow spike no longer takes the scale)', async () => {
    // a bowl (x² + y²) on [-1, 1]² with one cell at 1e4: on the full scale every other cell is one colour
    const n = 40;
    const values = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const x = -1 + (i + 0.5) / (n / 2);
        const y = -1 + (j + 0.5) / (n / 2);
        values[j * n + i] = x * x + y * y;
      }
    }
    values[n * 20 + 20] = 1e4;
    const grid = { nx: n, ny: n, xRange: [-1, 1] as const, yRange: [-1, 1] as const, values };
    const sorted = Float64Array.from(values).sort();
    const q = (p: number) => {
      const h = p * (sorted.length - 1);
      const i = Math.floor(h);
      return sorted[i]! + (h - i) * (sorted[i + 1]! - sorted[i]!);
    };
    const full = await plotEnergyLandscape(grid, { contours: false });
    expect(full.data['energyRange']).toEqual([sorted[0], 1e4]);
    const auto = await plotEnergyLandscape(grid, { colorRange: 'auto', contours: false });
    const [lo, hi] = auto.data['energyRange'] as [number, number];
    expect(lo).toBeCloseTo(q(0.01), 12);
    expect(hi).toBeCloseTo(q(0.99), 12);
    expect(hi).toBeLessThan(2);
    const shown = auto.data['shown'] as Float64Array;
    expect(shown[n * 20 + 20]).toBe(hi); // the spike takes the top colour
    expect(Math.min(...shown)).toBe(lo);
    expect(auto.data['colorDomain']).toEqual([lo, hi]);
    // the same clipping by explicit quantiles; log scale measured from E_lo, δ = 10⁻³ (E_hi − E_lo)
    const logged = await plotEnergyLandscape(grid, {
      colorRange: { quantiles: [0.01, 0.99] },
      logScale: true,
      contours: false,
    });
    const delta = 1e-3 * (hi - lo);
    const ls = logged.data['shown'] as Float64Array;
    expect(ls[5]).toBeCloseTo(Math.log(Math.min(hi, Math.max(lo, values[5]!)) - lo + delta), 10);
    expect(logged.data['colorDomain']).toEqual([Math.log(delta), Math.log(hi - lo + delta)]);
    // fixed energies
    const fixed = await plotEnergyLandscape(grid, { colorRange: [0.5, 1], contours: false });
    expect(fixed.data['energyRange']).toEqual([0.5, 1]);
    const fs = fixed.data['shown'] as Float64Array;
    expect(Math.min(...fs)).toBe(0.5);
    expect(Math.max(...fs)).toBe(1);
    // the picture: on the full scale the bowl is all dark; clipped, its rim is bright
    const rim = (fig: typeof full) => renderBoth(fig, 'landscape-clip').png.pixel(60, 32 + 22 + 10);
    expect(rim(full)[1]).toBeLessThan(60); // dark purple
    const { svg, png } = renderBoth(auto, 'landscape-clip-auto');
    expect(png.pixel(60, 32 + 22 + 10)[1]).toBeGreaterThan(170); // yellow-green
    expect(svg).toContain('clipped to the 1 %–99 % quantiles');
    const labelled = await plotEnergyLandscape(grid, { colorRange: 'auto', colorLabel: 'density p(x)' });
    expect(renderBoth(labelled, 'landscape-label').svg).toContain('density p(x)');
  });

  it('rejects malformed colour ranges and labels', async () => {
    const grid = await computeEnergyGrid(energy, { xRange: [-2, 2], resolution: 8 });
    const bad: [unknown, string][] = [
      ['some', 'colorRange'],
      [[1, 1], 'colorRange'],
      [[0, Number.NaN], 'colorRange'],
      [[2, 1], 'colorRange'],
      [{ quantiles: [0.5, 0.2] }, 'colorRange.quantiles'],
      [{ quantiles: [-0.1, 0.9] }, 'colorRange.quantiles'],
      [{ quantiles: [0.1, 1.5] }, 'colorRange.quantiles'],
      [{ quantiles: [0.1] }, 'colorRange.quantiles'],
      [{ quantile: [0.1, 0.9] }, 'quantile'],
      [null, 'colorRange'],
      [7, 'colorRange'],
    ];
    for (const [colorRange, argument] of bad) {
      await expectEbmError(
        plotEnergyLandscape(grid, { colorRange: colorRange as never }),
        'INVALID_PARAM',
        argument,
      );
    }
    await expectEbmError(
      plotEnergyLandscape(grid, { colorLabel: 3 as never }),
      'INVALID_PARAM',
      'colorLabel',
    );
    await expectEbmError(
      plotSamples([[0, 0]], { energy: grid, colorRange: 'some' as never }),
      'INVALID_PARAM',
      'colorRange',
    );
  });

  it('puts grid row 0 at the bottom and column 0 on the left (orientation)', async () => {
    const nx = 10;
    const ny = 6;
    const values = Float64Array.from(
      { length: nx * ny },
      (_, k) => Math.floor(k / nx) * 10 + (k % nx) * 0.01,
    );
    const fig = await plotEnergyLandscape(
      { nx, ny, xRange: [0, 1], yRange: [0, 1], values },
      { contours: false },
    );
    const { png } = renderBoth(fig, 'landscape-orientation');
    const top = png.pixel(300, 32 + 22 + 10); // highest energy: yellow
    const bottom = png.pixel(300, 32 + 452 - 40 - 10); // lowest energy: purple
    expect(top[1]).toBeGreaterThan(200);
    expect(bottom[1]).toBeLessThan(60);
  });

  it('rejects malformed grids', async () => {
    const values = new Float64Array(5);
    await expectEbmError(
      plotEnergyLandscape({ nx: 2, ny: 2, xRange: [0, 1], yRange: [0, 1], values }),
      'SHAPE_MISMATCH',
    );
    await expectEbmError(
      plotEnergyLandscape({
        nx: 2,
        ny: 2,
        xRange: [0, 1],
        yRange: [0, 1],
        values: new Float64Array(4).fill(Number.NaN),
      }),
      'NON_FINITE',
    );
  });
});
