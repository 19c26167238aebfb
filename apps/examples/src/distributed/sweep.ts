/**
 * A sweep of the demo on local worker processes: datasets × losses × seeds as training jobs on @ebm/distributed
 * (a private redis-server, `--workers` ebm-worker processes), then a comparison table (Markdown + JSON) and a
 * figure of the loss curves (mean over seeds, one panel per loss).
 *
 *   pnpm --filter @ebm/examples exec tsx src/distributed/sweep.ts [--workers 2] [--datasets twoMoons,eightGaussians]
 *     [--losses pcd,dsm,ssm] [--seeds 0,1] [--steps 150] [--backend auto] [--out out/distributed-sweep] [--smoke]
 *
 * Needs `redis-server` on the PATH (Debian: apt-get install redis-server), or `--redis-url` of a running Redis.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DistributedClient,
  type FitJobResult,
  type FitSpec,
  type JsonObject,
  type LocalRedis,
  spawnWorkers,
  startLocalRedis,
} from '@ebm/distributed';
import { plotTrainingCurves } from '@ebm/viz/node';
import { writeFigure, writeJson } from '../lib/output.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    datasets: { type: 'string', default: 'twoMoons,eightGaussians,checkerboard' },
    losses: { type: 'string', default: 'pcd,dsm,ssm' },
    seeds: { type: 'string', default: '0,1' },
    steps: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    'redis-url': { type: 'string' },
    out: { type: 'string', default: 'out/distributed-sweep' },
    smoke: { type: 'boolean', default: false },
  },
});

const smoke = values.smoke;
const steps = Number(values.steps ?? (smoke ? 20 : 300));
const datasets = values.datasets.split(',');
const losses = values.losses.split(',');
const seeds = values.seeds.split(',').map(Number);

const runs: { trainer: string; config: JsonObject; seed: number; label: string }[] = [];
for (const dataset of datasets)
  for (const loss of losses)
    for (const seed of seeds) {
      const config: FitSpec = {
        dataset: { kind: 'points', params: { name: dataset, n: smoke ? 400 : 2000 } },
        energy: { kind: 'mlp' },
        ...(loss === 'pcd' || loss === 'cd'
          ? { sampler: { kind: 'langevin', params: { stepSize: 0.01 } } }
          : {}),
        loss: { kind: loss, params: { k: smoke ? 2 : 10 } },
        optimizer: { kind: 'adam', learningRate: 2e-3 },
        steps,
        batchSize: smoke ? 64 : 128,
        checkpointEvery: Math.max(5, Math.floor(steps / 10)),
        evaluate: { n: smoke ? 100 : 400, steps: smoke ? 20 : 200 },
      };
      runs.push({
        trainer: 'fit',
        config: config as unknown as JsonObject,
        seed,
        label: `${dataset}/${loss}/${seed}`,
      });
    }

const redis: LocalRedis | undefined = values['redis-url'] ? undefined : await startLocalRedis();
const url = values['redis-url'] ?? redis!.url;
const workers = spawnWorkers(Number(values.workers), {
  registry: fileURLToPath(new URL('./registry.ts', import.meta.url)),
  nodeArgs: ['--import', 'tsx'],
  args: ['--redis-url', url, '--backend', values.backend],
});
const client = new DistributedClient({ connection: { url } });
try {
  const backends = await Promise.all(workers.map((w) => w.ready));
  console.log(
    `${workers.length} workers (${backends.join(', ')}), ${runs.length} training runs of ${steps} steps`,
  );
  const t0 = performance.now();
  const runId = await client.submitTraining({ runs });
  await client.wait(runId, {
    pollMs: 1000,
    onProgress: (p) =>
      process.stderr.write(
        `\rjobs ${p.jobsDone}/${p.jobsTotal}  ${(100 * p.fraction).toFixed(0)}%  ETA ${p.etaMs === undefined ? '?' : `${Math.round(p.etaMs / 1000)} s`}   `,
      ),
  });
  process.stderr.write('\n');
  const wallS = (performance.now() - t0) / 1000;
  const results = await client.trainingResults(runId);
  await client.deleteRun(runId);

  // table: mean ± sd over seeds per dataset × loss
  const stat = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
    return { mean: m, sd };
  };
  const fmt = (s: { mean: number; sd: number }, d = 4) => `${s.mean.toFixed(d)} ± ${s.sd.toFixed(d)}`;
  const rows = [];
  for (const dataset of datasets)
    for (const loss of losses) {
      const rs = results.filter((r) => r.label?.startsWith(`${dataset}/${loss}/`));
      const res = rs.map((r) => r.result as unknown as FitJobResult);
      const mmd = res.map((r) => Number((r.evaluation as JsonObject | null)?.mmdSamples ?? Number.NaN));
      const noise = res.map((r) => Number((r.evaluation as JsonObject | null)?.mmdNoise ?? Number.NaN));
      rows.push({
        dataset,
        loss,
        seeds: rs.length,
        finalLoss: stat(res.map((r) => r.finalLossMean ?? Number.NaN)),
        mmdSamples: stat(mmd),
        mmdNoise: stat(noise),
        seconds: stat(rs.map((r) => r.ms / 1000)),
        workers: [...new Set(rs.map((r) => r.worker))],
        backend: [...new Set(rs.map((r) => r.backend))].join(','),
      });
    }
  const md = [
    `# Demo sweep on ${workers.length} local workers (${steps} steps, ${seeds.length} seeds, wall ${wallS.toFixed(0)} s)`,
    '',
    '| dataset | loss | final loss (mean of last 10%) | MMD² samples → held-out | MMD² noise → held-out | s per run | backend |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.dataset} | ${r.loss} | ${fmt(r.finalLoss)} | ${fmt(r.mmdSamples)} | ${fmt(r.mmdNoise)} | ${fmt(r.seconds, 1)} | ${r.backend} |`,
    ),
    '',
    'Lower MMD² is better; the noise column is the score of the initial uniform noise (no learning).',
  ].join('\n');
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'table.md'), `${md}\n`);
  writeJson(values.out, 'results.json', { steps, wallS, rows, runs: results });
  // figure: loss curves, mean over seeds, one panel per loss, one line per dataset
  const history: Record<string, number>[] = [];
  const keys: string[][] = losses.map((l) => datasets.map((d) => `${d} ${l}`));
  for (const dataset of datasets)
    for (const loss of losses) {
      const curves = results
        .filter((r) => r.label?.startsWith(`${dataset}/${loss}/`))
        .map((r) => (r.result as unknown as FitJobResult).lossCurve);
      curves[0]?.forEach(([step], i) => {
        const vals = curves.map((c) => c[i]?.[1]).filter((v): v is number => typeof v === 'number');
        history[i] ??= { step };
        history[i]![`${dataset} ${loss}`] = vals.reduce((a, b) => a + b, 0) / Math.max(1, vals.length);
      });
    }
  const files = await writeFigure(
    values.out,
    'loss-curves',
    await plotTrainingCurves(history, {
      groups: keys,
      groupTitles: losses.map((l) => `${l} loss (mean over seeds)`),
      smoothing: 0.8,
      title: `Demo sweep: ${datasets.length} datasets × ${losses.length} losses × ${seeds.length} seeds`,
    }),
  );
  console.log(md);
  console.log(`wrote ${join(values.out, 'table.md')}, results.json, ${files.join(', ')}`);
} finally {
  await client.close();
  await Promise.all(workers.map((w) => w.stop(5000)));
  await redis?.stop();
}
