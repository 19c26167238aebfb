#!/usr/bin/env node
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EbmError } from '@ebm/core';
import { defineRegistry, type Registry } from '../registry.js';
import { startWorker } from '../worker.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectionFrom, fail } from './common.js';

const HELP = `ebm-worker --registry ./registry.mjs [options]

Takes @ebm/distributed jobs from Redis and runs them, one at a time, until SIGTERM/SIGINT (the job in
progress finishes first; a second signal stops at once, the job is retried from its checkpoint elsewhere).

  --registry MODULE          ES module whose default export (or 'registry' export) is the registry of
                             energies, samplers and trainers this worker may build (required)
  --backend B                auto (default: webgpu if a GPU is found, else wasm, else cpu), webgpu, wasm, cpu
  --gpu-adapter TEXT         WebGPU: use the adapter whose name contains TEXT (Dawn's adapter= flag)
  --lock-ms N                job lock in ms (default 30000): how long a dead worker's job waits before
                             another worker takes it over
  --stalled-ms N             how often to look for stalled jobs (default: lock-ms)
${CONNECTION_HELP}
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...CONNECTION_FLAGS,
      registry: { type: 'string' },
      backend: { type: 'string' },
      'gpu-adapter': { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!values.registry) {
    throw new EbmError('INVALID_PARAM', 'ebm-worker needs --registry MODULE.', {
      argument: '--registry',
      fix: 'pass the module that exports the registry of factories (see ebm-worker --help).',
    });
  }
  const mod = (await import(pathToFileURL(resolve(values.registry)).href)) as {
    default?: Registry;
    registry?: Registry;
  };
  const registry = defineRegistry((mod.default ?? mod.registry) as Registry);
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 100) {
      throw new EbmError('INVALID_PARAM', `--${name} must be an integer >= 100 (ms).`, {
        argument: `--${name}`,
        value: v,
        fix: `e.g. --${name} 30000.`,
      });
    }
    return n;
  };
  const lock = int('lock-ms', values['lock-ms']);
  const stalled = int('stalled-ms', values['stalled-ms']);
  const handle = await startWorker({
    registry,
    connection: connectionFrom(values),
    ...(values.queue ? { queue: values.queue } : {}),
    ...(values.backend ? { backend: values.backend } : {}),
    ...(values['gpu-adapter'] ? { gpuAdapter: values['gpu-adapter'] } : {}),
    ...(lock === undefined ? {} : { lockDurationMs: lock }),
    ...(stalled === undefined ? {} : { stalledIntervalMs: stalled }),
  });
  await handle.ready;
  let stopping = false;
  const stop = () => {
    const force = stopping;
    stopping = true;
    handle.close(force).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch(fail);
