import { fileURLToPath } from 'node:url';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import type * as tf from '@tensorflow/tfjs-core';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChainRunSpec,
  connectRedis,
  DistributedClient,
  defineRegistry,
  type LocalRedis,
  mergedStatsFromDraws,
  type RunProgress,
  runChainBatch,
  spawnWorkers,
  startLocalRedis,
  type WorkerProcess,
} from '../src/index.js';
import registry from './fixtures/registry.mjs';
import { redisAvailable } from './redis.js';

// End to end, as in CI: a private redis-server (with a password), 3 worker processes (`ebm-worker`, cpu), a
// client. A 64-job chain run and an 8-run training sweep complete; a worker killed with SIGKILL mid-job loses
// nothing (its job resumes from its checkpoint elsewhere); merged statistics equal a single-process run.

const run = redisAvailable();
const CLI = fileURLToPath(new URL('../dist/cli/worker.js', import.meta.url));
const REGISTRY = fileURLToPath(new URL('./fixtures/registry.mjs', import.meta.url));
const PASSWORD = 'test-secret-password';

describe.runIf(run)('@ebm/distributed on Redis with worker processes', () => {
  let redis: LocalRedis;
  let workers: WorkerProcess[] = [];
  let client: DistributedClient;
  const conn = () => ({ url: redis.url, password: PASSWORD, prefix: 'ebmtest' });
  const spawn = (n: number) =>
    spawnWorkers(n, {
      registry: REGISTRY,
      cli: CLI,
      args: ['--redis-url', redis.url, '--prefix', 'ebmtest', '--backend', 'cpu', '--lock-ms', '4000'],
      env: { REDIS_PASSWORD: PASSWORD },
    });

  beforeAll(async () => {
    redis = await startLocalRedis({ password: PASSWORD });
    workers = spawn(3);
    const backends = await Promise.all(workers.map((w) => w.ready));
    expect(backends).toEqual(['cpu', 'cpu', 'cpu']);
    client = new DistributedClient({ connection: conn() });
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all(workers.map((w) => w.stop(5000)));
    await redis?.stop();
  });

  it('refuses a connection without the right password, with a clear error', async () => {
    for (const password of ['wrong', undefined]) {
      const c = new DistributedClient({
        connection: { url: redis.url, prefix: 'ebmtest', ...(password ? { password } : {}) },
      });
      await expect(c.ping(5000)).rejects.toThrow(
        /Cannot use Redis at redis:\/\/127\.0\.0\.1.*(WRONGPASS|NOAUTH|invalid)/,
      );
      await c.close();
    }
    await client.ping();
  });

  it('runs a 64-job chain run whose merged statistics equal one process', async () => {
    const spec: ChainRunSpec = {
      energy: { kind: 'doubleWell', params: { barrierHeight: 1 } },
      sampler: { kind: 'langevin', params: { stepSize: 0.01 } },
      nChains: 128,
      chainsPerJob: 2,
      dim: 2,
      seed: 11,
      burnIn: 10,
      nSteps: 24,
      thin: 1,
      output: 'samples',
    };
    const progress: RunProgress[] = [];
    const runId = await client.submitChains({ ...spec, runId: 'chains64' });
    await client.wait(runId, { onProgress: (p) => progress.push(p), pollMs: 200, timeoutMs: 200_000 });
    const merged = await client.chainResult(runId);
    expect(merged.jobs).toHaveLength(64);
    expect(new Set(merged.jobs.map((j) => j.backend))).toEqual(new Set(['cpu']));
    expect(new Set(merged.jobs.map((j) => j.worker)).size).toBeGreaterThan(1);
    expect(progress.at(-1)!.jobsDone).toBe(64);
    expect(progress.at(-1)!.fraction).toBe(1);
    // one process: the same chains through the sampler's own API
    const energy = new DoubleWell({ barrierHeight: 1 });
    const r = await new LangevinDynamics(energy, { stepSize: 0.01 }).sample({
      nSamples: 128,
      dim: 2,
      seed: 11,
      burnIn: 10,
      nSteps: 24,
      trajectory: true,
    });
    const x = r.trajectory!.x as tf.Tensor;
    const single = (await x.data()) as Float32Array;
    x.dispose();
    r.samples.dispose();
    expect(Array.from(merged.draws!)).toEqual(Array.from(single));
    expect(merged.stats).toEqual(mergedStatsFromDraws(single, 128, 24, 2));
    await client.deleteRun(runId);
  });

  it('loses nothing when a worker is killed with SIGKILL mid-job; duplicates are idempotent', async () => {
    const spec: ChainRunSpec = {
      energy: { kind: 'doubleWell', params: { barrierHeight: 1 } },
      sampler: { kind: 'hmc', params: { stepSize: 0.1, nLeapfrogSteps: 2 } },
      nChains: 12,
      chainsPerJob: 4,
      dim: 2,
      seed: 5,
      nSteps: 400,
      thin: 4,
      checkpointEvery: 40,
      output: 'summary',
    };
    const runId = await client.submitChains({ ...spec, runId: 'kill9' });
    // find a job in progress past its first checkpoint, and kill its worker
    const queue = new Queue('ebm-jobs', { connection: connectRedis(conn()), prefix: 'ebmtest:bull' });
    let victim: { pid: number; index: number } | undefined;
    const t0 = Date.now();
    while (victim === undefined && Date.now() - t0 < 120_000) {
      for (const j of await queue.getJobs(['active'])) {
        const p = j.progress as { step?: number; pid?: number };
        if (j.id?.startsWith(`${runId}_`) && typeof p?.step === 'number' && p.step >= 120 && p.pid) {
          victim = { pid: p.pid, index: Number(j.id.slice(runId.length + 1)) };
          break;
        }
      }
      if (victim === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(victim).toBeDefined();
    const w = workers.find((x) => x.pid === victim!.pid)!;
    process.kill(victim!.pid, 'SIGKILL');
    workers = [...workers.filter((x) => x !== w), ...spawn(1)]; // keep 3 workers for the next test
    await client.wait(runId, { pollMs: 250, timeoutMs: 200_000 });
    const merged = await client.chainResult(runId);
    const job = merged.jobs.find((j) => j.index === victim!.index)!;
    expect(job.resumedFrom).toBeGreaterThanOrEqual(40); // continued from a checkpoint, not from scratch
    expect((await client.deliveries(runId))[victim!.index]).toBeGreaterThanOrEqual(2);
    // identical to an uninterrupted single-process run of the same chains
    const local = await runChainBatch(defineRegistry(registry), {
      type: 'chains',
      runId,
      index: 0,
      energy: spec.energy,
      sampler: spec.sampler,
      chainStart: 0,
      chainEnd: 12,
      dim: 2,
      seed: 5,
      nSteps: 400,
      burnIn: 0,
      thin: 4,
      output: 'summary',
      checkpointEvery: 400,
    });
    expect(merged.summaries).toEqual(local.summaries);
    // a duplicate delivery of a finished job changes nothing
    const before = JSON.stringify(merged.stats);
    await queue.add('chains', (await queue.getJob(`${runId}_0`))?.data ?? {}, { jobId: `${runId}_0_dup` });
    const t1 = Date.now();
    while ((await client.deliveries(runId))[0]! < 2 && Date.now() - t1 < 60_000)
      await new Promise((r) => setTimeout(r, 100));
    expect((await client.deliveries(runId))[0]).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify((await client.chainResult(runId)).stats)).toBe(before);
    await queue.close();
    await client.deleteRun(runId);
  });

  it('rejects untrusted payloads without retrying, with a clear reason', async () => {
    const queue = new Queue('ebm-jobs', { connection: connectRedis(conn()), prefix: 'ebmtest:bull' });
    const bad = await queue.add(
      'chains',
      { type: 'chains', runId: 'bad', index: 0, evil: 'x' },
      { jobId: 'bad_0', attempts: 3 },
    );
    const t0 = Date.now();
    let state = await bad.getState();
    while (state !== 'failed' && Date.now() - t0 < 30_000) {
      await new Promise((r) => setTimeout(r, 100));
      state = await bad.getState();
    }
    const failed = (await queue.getJob('bad_0'))!;
    expect(state).toBe('failed');
    expect(failed.attemptsMade).toBeLessThanOrEqual(1);
    expect(failed.failedReason).toMatch(/Invalid job payload: job\.evil is not a known field/);
    // an unknown kind: the client's wait fails with the worker's message
    const runId = await client.submitChains({
      energy: { kind: 'noSuchEnergy' },
      sampler: { kind: 'langevin' },
      nChains: 2,
      chainsPerJob: 2,
      dim: 2,
      nSteps: 8,
      runId: 'unknownkind',
    });
    await expect(client.wait(runId, { pollMs: 200, timeoutMs: 60_000 })).rejects.toThrow(/noSuchEnergy/);
    await client.deleteRun(runId);
    await queue.close();
  });

  it('runs an 8-run training sweep; a run repeated in one process gives the same losses', async () => {
    const runs = [];
    for (const loss of ['pcd', 'dsm'])
      for (const seed of [1, 2, 3, 4]) {
        runs.push({
          trainer: 'fit',
          seed,
          label: `twoMoons/${loss}/${seed}`,
          config: {
            dataset: { kind: 'twoMoons' },
            energy: { kind: 'mlp' },
            ...(loss === 'pcd' ? { sampler: { kind: 'langevin', params: { stepSize: 0.01 } } } : {}),
            loss:
              loss === 'pcd'
                ? { kind: 'pcd', params: { k: 2, buffer: { capacity: 64 } } }
                : { kind: 'dsm', params: {} },
            optimizer: { kind: 'adam', learningRate: 0.003 },
            steps: 12,
            batchSize: 32,
            checkpointEvery: 4,
          },
        });
      }
    const runId = await client.submitTraining({ runs, runId: 'sweep8' });
    await client.wait(runId, { pollMs: 250, timeoutMs: 200_000 });
    const results = await client.trainingResults(runId);
    expect(results.map((r) => r.label)).toEqual(runs.map((r) => r.label));
    for (const r of results) {
      expect(r.backend).toBe('cpu');
      expect(r.result.steps).toBe(12);
      expect(Number.isFinite(r.result.finalLoss)).toBe(true);
    }
    const trainer = registry.trainers!.fit!;
    const again = await trainer({
      job: { type: 'train', runId, index: 5, trainer: 'fit', config: runs[5]!.config, seed: runs[5]!.seed },
      config: runs[5]!.config,
      seed: runs[5]!.seed,
      resumeFrom: undefined,
      checkpoint: async () => {},
      progress: () => {},
      signal: new AbortController().signal,
      backend: 'cpu',
      registry,
    });
    expect(again.lossCurve).toEqual(results[5]!.result.lossCurve);
    await client.deleteRun(runId);
  });
});
