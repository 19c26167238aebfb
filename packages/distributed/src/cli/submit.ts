#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EbmError } from '@ebm/core';
import { type ChainRunSpec, DistributedClient, type RunProgress, type TrainingSweepSpec } from '../client.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectionFrom, fail } from './common.js';

const HELP = `ebm-submit <chains|train|status|result> [options]

  ebm-submit chains --spec run.json [--no-wait] [--out result.json] [--draws]
      Splits a sampling run into chain-batch jobs (run.json: a ChainRunSpec: energy, sampler, nChains,
      chainsPerJob, dim, seed, nSteps, burnIn, thin, output) and, unless --no-wait, follows it and writes the
      merged statistics (pooled mean/variance, split-R-hat, ESS; --draws adds every kept draw).
  ebm-submit train --spec sweep.json [--no-wait] [--out results.json]
      Queues one job per training run (sweep.json: { runs: [{ trainer, config, seed, label }] }).
  ebm-submit status RUN_ID       progress of a run (jobs and chains done, ETA)
  ebm-submit result RUN_ID [--out F] [--draws]   merged result of a finished run

Progress goes to stderr; the run id and results to stdout (or --out).
${CONNECTION_HELP}
`;

function line(p: RunProgress): string {
  const eta = p.etaMs === undefined ? '?' : `${(p.etaMs / 1000).toFixed(0)} s`;
  const chains = p.chainsTotal > 0 ? `, chains ${Math.floor(p.chainsDone)}/${p.chainsTotal}` : '';
  return `[${p.runId}] jobs ${p.jobsDone}/${p.jobsTotal}${chains}, ${(100 * p.fraction).toFixed(1)}%, elapsed ${(p.elapsedMs / 1000).toFixed(0)} s, ETA ${eta}`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      ...CONNECTION_FLAGS,
      spec: { type: 'string' },
      out: { type: 'string' },
      'no-wait': { type: 'boolean' },
      draws: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [cmd, arg] = positionals;
  if (values.help || cmd === undefined) {
    process.stdout.write(HELP);
    return;
  }
  const client = new DistributedClient({
    connection: connectionFrom(values),
    ...(values.queue ? { queue: values.queue } : {}),
  });
  try {
    await client.ping();
  } catch (e) {
    await client.close();
    throw e;
  }
  const write = (obj: unknown) => {
    const text = `${JSON.stringify(obj, null, 2)}\n`;
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
  };
  const chainOut = async (runId: string) => {
    const r = await client.chainResult(runId);
    write({
      runId,
      nChains: r.nChains,
      nKept: r.nKept,
      dim: r.dim,
      stats: r.stats,
      jobs: r.jobs,
      ...(values.draws && r.draws ? { draws: Array.from(r.draws) } : {}),
    });
  };
  const follow = (runId: string) =>
    client.wait(runId, { onProgress: (p) => process.stderr.write(`${line(p)}\n`), pollMs: 1000 });
  try {
    if (cmd === 'chains' || cmd === 'train') {
      if (!values.spec) {
        throw new EbmError('INVALID_PARAM', `ebm-submit ${cmd} needs --spec FILE.`, {
          argument: '--spec',
          fix: 'pass a JSON file (see ebm-submit --help).',
        });
      }
      const spec = JSON.parse(readFileSync(values.spec, 'utf8')) as unknown;
      const runId =
        cmd === 'chains'
          ? await client.submitChains(spec as ChainRunSpec)
          : await client.submitTraining(spec as TrainingSweepSpec);
      process.stderr.write(`submitted run ${runId}\n`);
      if (values['no-wait']) {
        process.stdout.write(`${runId}\n`);
        return;
      }
      await follow(runId);
      if (cmd === 'chains') await chainOut(runId);
      else write({ runId, results: await client.trainingResults(runId) });
    } else if (cmd === 'status' && arg) {
      process.stdout.write(`${line(await client.progress(arg))}\n`);
    } else if (cmd === 'result' && arg) {
      const p = await client.progress(arg);
      if (p.jobsDone < p.jobsTotal) await follow(arg);
      try {
        await chainOut(arg);
      } catch {
        write({ runId: arg, results: await client.trainingResults(arg) });
      }
    } else {
      process.stdout.write(HELP);
      process.exitCode = 2;
    }
  } finally {
    await client.close();
  }
}

main().catch(fail);
