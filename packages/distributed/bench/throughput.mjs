#!/usr/bin/env node
// Throughput of a chain run on 1, 2 and 4 local worker processes against one process running the same chains
// (runChainBatch in-process, same backend), measured in the same run. Prints a table and writes JSON.
//   node bench/throughput.mjs [--backend wasm|cpu] [--workers 1,2,4] [--jobs 16] [--chains 64] [--steps 300]
//     [--dim 8] [--out bench/results.json]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DistributedClient,
  defineRegistry,
  runChainBatch,
  selectBackend,
  spawnWorkers,
  startLocalRedis,
} from '@ebm/distributed';
import registry from '../test/fixtures/registry.mjs';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    workers: { type: 'string', default: '1,2,4' },
    jobs: { type: 'string', default: '16' },
    chains: { type: 'string', default: '64' },
    steps: { type: 'string', default: '300' },
    dim: { type: 'string', default: '8' },
    out: { type: 'string' },
  },
});
try {
  execFileSync(process.env.EBM_REDIS_SERVER ?? 'redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  console.log('redis-server not found: throughput bench skipped.');
  process.exit(0);
}
const nJobs = Number(values.jobs);
const per = Number(values.chains);
const nSteps = Number(values.steps);
const dim = Number(values.dim);
const spec = {
  energy: { kind: 'doubleWell', params: { barrierHeight: 1 } },
  sampler: { kind: 'langevin', params: { stepSize: 0.01 } },
  nChains: nJobs * per,
  chainsPerJob: per,
  dim,
  seed: 1,
  nSteps,
  output: 'summary',
};

const backend = await selectBackend({ preference: values.backend });
const reg = defineRegistry(registry);
const job = {
  type: 'chains',
  runId: 'bench',
  index: 0,
  ...spec,
  chainStart: 0,
  chainEnd: spec.nChains,
  burnIn: 0,
  thin: 1,
  checkpointEvery: Math.ceil(nSteps / 10),
};
// One process, the same chains: as jobs in sequence (what one worker does) and as one batch.
await runChainBatch(reg, { ...job, chainEnd: per }); // warm-up
let t0 = performance.now();
for (let i = 0; i < nJobs; i++)
  await runChainBatch(reg, { ...job, chainStart: i * per, chainEnd: (i + 1) * per });
const seqMs = performance.now() - t0;
t0 = performance.now();
await runChainBatch(reg, job);
const oneBatchMs = performance.now() - t0;

const countBy = (keys) => {
  const m = new Map();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.values()];
};

const redis = await startLocalRedis();
const client = new DistributedClient({ connection: { url: redis.url } });
const rows = [];
try {
  for (const w of values.workers.split(',').map(Number)) {
    const workers = spawnWorkers(w, {
      registry: fileURLToPath(new URL('../test/fixtures/registry.mjs', import.meta.url)),
      args: ['--redis-url', redis.url, '--backend', values.backend],
    });
    const backends = await Promise.all(workers.map((x) => x.ready));
    // warm-up: one job per worker
    const warm = await client.submitChains({ ...spec, nChains: w * per, nSteps: 20 });
    await client.wait(warm, { pollMs: 100 });
    t0 = performance.now();
    const runId = await client.submitChains(spec);
    await client.wait(runId, { pollMs: 100 });
    const ms = performance.now() - t0;
    const r = await client.chainResult(runId);
    rows.push({
      workers: w,
      backends: [...new Set(backends)],
      ms: Math.round(ms),
      chainStepsPerS: Math.round((spec.nChains * nSteps) / (ms / 1000)),
      ratioToOneProcessJobs: +(seqMs / ms).toFixed(2),
      ratioToOneProcessOneBatch: +(oneBatchMs / ms).toFixed(2),
      jobsPerWorker: countBy(r.jobs.map((j) => j.worker)),
    });
    await client.deleteRun(runId);
    await client.deleteRun(warm);
    await Promise.all(workers.map((x) => x.stop(5000)));
  }
} finally {
  await client.close();
  await redis.stop();
}
const report = {
  machine: `${cpus().length}-core ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  backend,
  work: `${nJobs} jobs × ${per} chains × ${nSteps} Langevin steps, double well D=${dim}`,
  oneProcess: { jobsInSequenceMs: Math.round(seqMs), oneBatchMs: Math.round(oneBatchMs) },
  rows,
};
console.table(rows.map(({ jobsPerWorker, backends, ...r }) => r));
console.log(JSON.stringify(report, null, 2));
if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
process.exit(0);
