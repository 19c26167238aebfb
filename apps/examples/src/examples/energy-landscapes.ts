/**
 * Energy landscapes (TorchEBM 00-foundations/01-energy-landscapes).
 *
 * Evaluates four analytic energies — a correlated Gaussian, the double well E = h·Σ(xᵢ² − b²)², Rosenbrock
 * E = (a − x)² + b(y − x²)² and a two-component Gaussian mixture — on a 25×25 grid over [−3, 3]², prints the
 * energy range and the mean force ‖−∇E‖, checks each analytic gradient against central finite differences,
 * and draws every landscape (log colour scale) on one sheet.
 */

import type { EnergyFunction } from '@ebm/core';
import { DoubleWell, Gaussian, GaussianMixture, Rosenbrock } from '@ebm/models';
import { combineFigures, plotEnergyLandscape } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Per-energy statistics on the grid. */
export interface LandscapeStats {
  readonly min: number;
  readonly max: number;
  /** (x, y) of the grid's minimum. */
  readonly argmin: [number, number];
  /** Mean ‖∇E‖ over the grid. */
  readonly meanForce: number;
  /** max |∇E − finite differences| / (1 + |∇E|) over 50 grid points. */
  readonly gradError: number;
}

function grid(n: number, lo: number, hi: number): Float32Array {
  const g = new Float32Array(n * n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      g[2 * (i * n + j)] = lo + ((hi - lo) * j) / (n - 1);
      g[2 * (i * n + j) + 1] = lo + ((hi - lo) * i) / (n - 1);
    }
  }
  return g;
}

async function stats(energy: EnergyFunction, points: Float32Array): Promise<LandscapeStats> {
  const n = points.length / 2;
  // central differences at every 12th grid point (float32, so a relative tolerance)
  const idx = Array.from({ length: Math.ceil(n / 12) }, (_, i) => i * 12).filter((i) => i < n);
  const eps = 1e-2;
  const probe: number[] = [];
  for (const i of idx) {
    for (let d = 0; d < 2; d++) {
      for (const s of [eps, -eps]) {
        const p = [points[2 * i]!, points[2 * i + 1]!];
        p[d]! += s;
        probe.push(...p);
      }
    }
  }
  // every value needed, packed into one tensor and read with one await (WebGPU in Node has no sync reads)
  const packed = tf.tidy(() => {
    const x = tf.tensor2d(points, [n, 2]);
    const { energy: e, gradient: g } = energy.energyAndGradient(x);
    const force = tf.reshape(tf.mean(tf.norm(g, 'euclidean', 1)), [1]);
    const ep = energy.energy(tf.tensor2d(probe, [probe.length / 2, 2]));
    return tf.concat([e, force, tf.reshape(g, [-1]), ep]);
  });
  const all = (await packed.data()) as Float32Array;
  packed.dispose();
  const ev = all.subarray(0, n);
  const force = all[n]!;
  const gv = all.subarray(n + 1, n + 1 + 2 * n);
  const ep = all.subarray(n + 1 + 2 * n);
  let k = 0;
  for (let i = 1; i < n; i++) if (ev[i]! < ev[k]!) k = i;
  let err = 0;
  idx.forEach((i, r) => {
    for (let d = 0; d < 2; d++) {
      const fd = (ep[4 * r + 2 * d]! - ep[4 * r + 2 * d + 1]!) / (2 * eps);
      const an = gv[2 * i + d]!;
      err = Math.max(err, Math.abs(fd - an) / (1 + Math.abs(an)));
    }
  });
  return {
    min: round(ev[k]!),
    max: round(Math.max(...ev)),
    argmin: [round(points[2 * k]!), round(points[2 * k + 1]!)] as [number, number],
    meanForce: round(force),
    gradError: round(err, 6),
  };
}

/** Runs the example; returns the grid statistics of every energy. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('energy-landscapes', options);
  const energies: Record<string, EnergyFunction & { dispose?: () => void }> = {
    gaussian: new Gaussian({
      mean: [0.5, -0.5],
      covariance: [
        [1, 0.8],
        [0.8, 1],
      ],
    }),
    doubleWell: new DoubleWell({ barrierHeight: 2 }),
    rosenbrock: new Rosenbrock({ a: 1, b: 10 }),
    mixture: new GaussianMixture({
      means: [
        [-1.5, 0],
        [1.5, 1],
      ],
      weights: [0.3, 0.7],
      std: 0.5,
    }),
  };
  const pts = grid(25, -3, 3);
  const result: Record<string, LandscapeStats> = {};
  for (const [name, e] of Object.entries(energies)) {
    result[name] = await stats(e, pts);
    console.log(
      `${name}: E ∈ [${result[name]!.min}, ${result[name]!.max}], mean ‖∇E‖ = ${result[name]!.meanForce}`,
    );
  }
  const resolution = ctx.smoke ? 40 : 120;
  const figs = [];
  for (const [name, e] of Object.entries(energies)) {
    figs.push(
      await plotEnergyLandscape(e, {
        xRange: [-3, 3],
        yRange: [-3, 3],
        resolution,
        logScale: true,
        title: name,
        width: 360,
        height: 300,
      }),
    );
  }
  await ctx.figure(
    'landscapes',
    combineFigures(figs, { columns: 2, title: 'Energy landscapes on [−3, 3]² (log colour scale)' }),
  );
  for (const e of Object.values(energies)) e.dispose?.();
  return finish(ctx, { gridSize: 25, energies: result });
}

mainGuard(import.meta.url, run);
