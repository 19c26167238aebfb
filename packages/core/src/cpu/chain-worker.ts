import { type HostChainSpec, parseChainSpec, runChainHost, runParsedChain, stepKeys } from './host-chain.js';
import { normalRange } from './philox.js';

/**
 * The worker side of the chain pool (`pool.ts`), bundled by `scripts/gen-chain-worker.mjs` into one
 * self-contained script (`src/_generated/chain-worker-source.js`) that runs as a Node `worker_threads` worker
 * (`eval: true`) or a browser Web Worker (from a Blob URL), so it survives any bundling of `@ebm/core`.
 *
 * Two kinds of job (both may first draw x0 ~ N(0, 1) for their rows: `draw` = the key of `normalArray(key, [B, D])`,
 * row r being elements r·D … r·D + D − 1 of that stream, whoever draws it):
 * - shared (`SharedArrayBuffer`, Node and cross-origin-isolated pages): `{ id, spec, D, B, x, next, acc, tileRows,
 *   draw }`, `x` the whole batch `[B, D]` and `acc` the per-row accept counts in shared memory; the worker takes
 *   tiles of `tileRows` rows with `Atomics.add(next, 0, 1)` until none are left (so faster workers take more tiles)
 *   and updates them in place. Reply `{ id, tiles, t }`.
 * - block: `{ id, spec, x, D, r0, r1, draw }`, `x` the rows `r0 … r1 − 1` (Float32Array, transferred). Reply
 *   `{ id, x, accepted, tiles, t }` (the updated rows, transferred).
 * `t` = [job received, work done] in ms since the epoch (`performance.timeOrigin + performance.now()`, comparable
 * across threads): the pool's timings. Errors: `{ id, error: { message, code, argument, fix } }`.
 * @module
 */

interface Job {
  readonly id: number;
  readonly spec: HostChainSpec;
  readonly x: Float32Array;
  readonly D: number;
  readonly draw?: readonly [number, number];
  // block jobs
  readonly r0: number;
  readonly r1: number;
  // shared jobs
  readonly B?: number;
  readonly next?: Int32Array;
  readonly acc?: Float64Array;
  readonly tileRows?: number;
}

interface Port {
  postMessage(message: unknown, transfer?: unknown[]): void;
}

declare const require: ((id: string) => unknown) | undefined;

const now = () => performance.timeOrigin + performance.now();

function runShared(job: Job & { next: Int32Array; B: number; tileRows: number }): number {
  const { x, D, B, next, acc, tileRows, draw } = job;
  const c = parseChainSpec(job.spec, D);
  const keys = stepKeys(c);
  const nTiles = Math.ceil(B / tileRows);
  let tiles = 0;
  for (;;) {
    const t = Atomics.add(next, 0, 1);
    if (t >= nTiles) return tiles;
    const a = t * tileRows;
    const b = Math.min(B, a + tileRows);
    if (draw !== undefined) normalRange(draw[0], draw[1], a * D, (b - a) * D, x, a * D);
    const counts = runParsedChain(c, x, D, a, b, 0, undefined, keys);
    if (acc !== undefined && counts !== undefined) acc.set(counts, a);
    tiles++;
  }
}

function handle(port: Port, job: Job): void {
  const received = now();
  try {
    if (job.next !== undefined) {
      const tiles = runShared(job as Job & { next: Int32Array; B: number; tileRows: number });
      port.postMessage({ id: job.id, tiles, t: [received, now()] });
      return;
    }
    const { draw, x, D, r0, r1 } = job;
    if (draw !== undefined) normalRange(draw[0], draw[1], r0 * D, (r1 - r0) * D, x, 0);
    const accepted = runChainHost(job.spec, x, D, r0, r1, r0);
    const transfer: unknown[] = [x.buffer];
    if (accepted !== undefined) transfer.push(accepted.buffer);
    port.postMessage({ id: job.id, x, accepted, tiles: 1, t: [received, now()] }, transfer);
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
