/**
 * Small helpers shared by the curriculum's examples: options, output folders, host-side statistics and the
 * `main` guard that lets every example run as a script (`pnpm exec tsx src/examples/<name>.ts`).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Figure, plotTrainingCurves } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../lib/backend.js';
import { writeFigure, writeJson } from '../lib/output.js';

/** Options every example takes. */
export interface ExampleOptions {
  /** Tiny sizes: a few seconds on CPU (used by the tests). */
  readonly smoke?: boolean;
  /** Output folder (default `out/<name>`). */
  readonly outDir?: string;
  /** Random seed (default 0). */
  readonly seed?: number;
}

/** What every example returns: plain numbers (and a few labels) the tests assert on, plus the files written. */
export type ExampleResult = Record<string, unknown> & { readonly files: string[] };

/** Resolved options plus a figure/JSON writer that records every file it writes. */
export interface ExampleContext {
  readonly smoke: boolean;
  readonly outDir: string;
  readonly seed: number;
  readonly files: string[];
  figure(name: string, fig: Figure): Promise<void>;
  json(name: string, value: unknown): void;
}

/** Resolves options for example `name`. */
export function context(name: string, options: ExampleOptions = {}): ExampleContext {
  const outDir = options.outDir ?? join('out', name);
  const files: string[] = [];
  return {
    smoke: options.smoke ?? false,
    outDir,
    seed: options.seed ?? 0,
    files,
    async figure(fname, fig) {
      for (const f of await writeFigure(outDir, fname, fig)) if (!files.includes(f)) files.push(f);
    },
    json(fname, value) {
      const f = writeJson(outDir, fname, value);
      if (!files.includes(f)) files.push(f);
    },
  };
}

/** Writes `result.json` (the result without the file list) and returns the result with every file. */
export function finish<R extends Record<string, unknown>>(
  ctx: ExampleContext,
  result: R,
): R & { files: string[] } {
  ctx.json('result.json', result);
  return { ...result, files: [...ctx.files] };
}

/**
 * Runs `run` when the module is the entry point of the process (`tsx src/examples/<name>.ts [--smoke]`), on the
 * cpu backend, and prints the result.
 */
export function mainGuard(
  metaUrl: string,
  run: (o: ExampleOptions) => Promise<Record<string, unknown>>,
): void {
  const entry = process.argv[1];
  if (entry === undefined || pathToFileURL(entry).href !== metaUrl) return;
  const smoke = process.argv.includes('--smoke');
  selectBackend('cpu')
    .then(() => run({ smoke }))
    .then((r) => {
      console.log(JSON.stringify(r, null, 2));
    })
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    });
}

/** Splits interleaved `[N, 2]` rows into `{ x, y }` columns. */
export function columns(a: ArrayLike<number>, dim = 2): { x: Float32Array; y: Float32Array } {
  const n = Math.floor(a.length / dim);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = a[i * dim]!;
    y[i] = a[i * dim + 1]!;
  }
  return { x, y };
}

/** Sample mean and (biased) covariance matrix of `[N, D]` rows. */
export function meanCov(a: ArrayLike<number>, dim: number): { mean: number[]; cov: number[][] } {
  const n = Math.floor(a.length / dim);
  const mean = new Array<number>(dim).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += a[i * dim + j]! / n;
  const cov = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const dj = a[i * dim + j]! - mean[j]!;
      for (let k = 0; k < dim; k++) cov[j]![k]! += (dj * (a[i * dim + k]! - mean[k]!)) / n;
    }
  }
  return { mean, cov };
}

/** Mean of the column `j` of `[N, D]` rows after `f`. */
export function columnMean(
  a: ArrayLike<number>,
  dim: number,
  j: number,
  f: (v: number) => number = (v) => v,
): number {
  const n = Math.floor(a.length / dim);
  let s = 0;
  for (let i = 0; i < n; i++) s += f(a[i * dim + j]!);
  return s / n;
}

/** Rounds for readable JSON. */
export function round(v: number, digits = 4): number {
  return Number.isFinite(v) ? Number(v.toFixed(digits)) : v;
}

/**
 * A line chart of several series against a shared x column, drawn with `plotTrainingCurves` (one panel per group).
 */
export function lineChart(
  x: ArrayLike<number>,
  series: Record<string, ArrayLike<number>>,
  options: { title: string; groups?: string[][]; groupTitles?: string[] },
): Promise<Figure> {
  const cols: Record<string, ArrayLike<number>> = { step: x, ...series };
  return plotTrainingCurves(cols, {
    title: options.title,
    groups: options.groups ?? [Object.keys(series)],
    ...(options.groupTitles !== undefined ? { groupTitles: options.groupTitles } : {}),
  });
}

/**
 * Evaluates `fn` in a `tf.tidy` and reads its scalar with `await` (every backend: WebGPU in Node cannot read
 * synchronously), releasing everything it made.
 */
export async function readScalar(fn: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(fn);
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}
