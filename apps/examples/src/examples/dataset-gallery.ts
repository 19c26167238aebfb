/**
 * Dataset gallery (TorchEBM 00-foundations/02-datasets/01-dataset-gallery).
 *
 * Generates every dataset of `@ebm/datasets` at N = 2048 with seed 0 (`grid` with 45² = 2025 points), prints
 * shape, mean, standard deviation and extent of each, checks that the same seed gives the same points, and
 * draws them all on one sheet.
 */
import { DATASET_NAMES, makeDataset } from '@ebm/datasets';
import { plotDatasetGallery } from '@ebm/viz/node';
import { columns, context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Statistics of one dataset. */
export interface DatasetStats {
  readonly n: number;
  readonly mean: [number, number];
  readonly std: [number, number];
  readonly extent: [number, number, number, number];
  readonly finite: boolean;
}

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('dataset-gallery', options);
  const n = ctx.smoke ? 512 : 2048;
  const perDim = ctx.smoke ? 22 : 45;
  const stats: Record<string, DatasetStats> = {};
  const points: Record<string, { x: Float32Array; y: Float32Array }> = {};
  let deterministic = true;
  for (const name of DATASET_NAMES) {
    const opts =
      name === 'grid' ? { nSamplesPerDim: perDim, seed: ctx.seed } : { nSamples: n, seed: ctx.seed };
    const ds = makeDataset(name, opts as never);
    const again = makeDataset(name, opts as never);
    deterministic &&= ds.data.every((v, i) => v === again.data[i]);
    const { x, y } = columns(ds.data);
    points[name] = { x, y };
    const m = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const sd = (a: Float32Array, mu: number) =>
      Math.sqrt(a.reduce((s, v) => s + (v - mu) ** 2, 0) / a.length);
    const mx = m(x);
    const my = m(y);
    stats[name] = {
      n: ds.nSamples,
      mean: [round(mx), round(my)],
      std: [round(sd(x, mx)), round(sd(y, my))],
      extent: [round(Math.min(...x)), round(Math.max(...x)), round(Math.min(...y)), round(Math.max(...y))],
      finite: ds.data.every(Number.isFinite),
    };
    console.log(`${name.padEnd(16)} n=${ds.nSamples} mean=(${stats[name].mean}) std=(${stats[name].std})`);
  }
  await ctx.figure(
    'gallery',
    await plotDatasetGallery(points, { columns: 5, title: `@ebm/datasets, seed ${ctx.seed}` }),
  );
  return finish(ctx, { nRequested: n, deterministic, datasets: stats });
}

mainGuard(import.meta.url, run);
