import { type HostChainSpec, runChainHost } from './host-chain.js';

/**
 * The worker side of the chain pool (`pool.ts`), bundled by `scripts/gen-chain-worker.mjs` into one
 * self-contained script (`src/_generated/chain-worker-source.js`) that runs as a Node `worker_threads` worker
 * (`eval: true`) or a browser Web Worker (from a Blob URL), so it survives any bundling of `@ebm/core`.
 *
 * Message in: `{ id, spec, x, D, r0, r1 }`, `x` the rows `r0 … r1 − 1` (Float32Array, transferred). Message out:
 * `{ id, x, accepted }` (the updated rows, transferred) or `{ id, error: { message, code, argument } }`.
 * @module
 */

interface Job {
  readonly id: number;
  readonly spec: HostChainSpec;
  readonly x: Float32Array;
  readonly D: number;
  readonly r0: number;
  readonly r1: number;
}

interface Port {
  postMessage(message: unknown, transfer?: unknown[]): void;
}

declare const require: ((id: string) => unknown) | undefined;

function handle(port: Port, job: Job): void {
  try {
    const accepted = runChainHost(job.spec, job.x, job.D, job.r0, job.r1, job.r0);
    const transfer: unknown[] = [job.x.buffer];
    if (accepted !== undefined) transfer.push(accepted.buffer);
    port.postMessage({ id: job.id, x: job.x, accepted }, transfer);
  } catch (e) {
    const err = e as { message?: string; code?: string; argument?: string; value?: unknown; fix?: string };
    port.postMessage({
      id: job.id,
      error: {
        message: String(err?.message ?? e),
        code: err?.code,
        argument: err?.argument,
        fix: err?.fix,
      },
    });
  }
}

const g = globalThis as unknown as {
  process?: { versions?: { node?: string } };
  onmessage?: (event: { data: Job }) => void;
  postMessage?: (message: unknown, transfer?: unknown[]) => void;
};
if (g.process?.versions?.node !== undefined && typeof require === 'function') {
  const wt = require('node:worker_threads') as {
    parentPort: Port & { on(event: 'message', fn: (job: Job) => void): void };
  };
  const port = wt.parentPort;
  port.on('message', (job) => handle(port, job));
} else {
  const self = g as Required<Pick<typeof g, 'postMessage'>> & typeof g;
  const port: Port = { postMessage: (m, t) => self.postMessage(m, t) };
  g.onmessage = (event) => handle(port, event.data);
}
