import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { EbmError } from '@ebm/core';

/**
 * # Local processes: a private Redis and worker processes
 *
 * For tests, examples and one-machine runs: {@link startLocalRedis} starts `redis-server` on a free loopback
 * port (no persistence, bound to 127.0.0.1, optional password) and {@link spawnWorkers} starts `ebm-worker`
 * processes. Both return handles that stop what they started.
 * @module
 */

/** A running local Redis. */
export interface LocalRedis {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Starts `redis-server` (default `/usr/bin/redis-server`, or `EBM_REDIS_SERVER`) on a free loopback port. */
export async function startLocalRedis(
  options: { binary?: string; password?: string; timeoutMs?: number } = {},
): Promise<LocalRedis> {
  const binary = options.binary ?? process.env.EBM_REDIS_SERVER ?? 'redis-server';
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start within ${options.timeoutMs ?? 15000} ms:\n${out}`)),
      options.timeoutMs ?? 15000,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  try {
    await ready;
  } catch (e) {
    child.kill('SIGKILL');
    throw new EbmError('BACKEND_UNAVAILABLE', `Could not start ${binary}: ${(e as Error).message}`, {
      argument: 'binary',
      value: binary,
      fix: 'install redis-server (apt-get install redis-server) or set EBM_REDIS_SERVER.',
    });
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A worker process started by {@link spawnWorkers}. */
export interface WorkerProcess {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything it wrote (stdout and stderr). */
  readonly output: () => string;
  /** Resolves when the worker logged its backend (it is taking jobs). */
  readonly ready: Promise<string>;
  /** SIGTERM (graceful), then SIGKILL after `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `count` worker processes: `node [nodeArgs] <cli> --registry <registry> [args]`, where `cli` is this
 * package's `ebm-worker` (default) and `env` adds to the environment (e.g. `REDIS_PASSWORD`).
 */
export function spawnWorkers(
  count: number,
  options: {
    registry: string;
    args?: readonly string[];
    nodeArgs?: readonly string[];
    env?: Record<string, string>;
    cli?: string;
  },
): WorkerProcess[] {
  const cli = options.cli ?? new URL('./cli/worker.js', import.meta.url).pathname;
  const out: WorkerProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), cli, '--registry', options.registry, ...(options.args ?? [])],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
    );
    let log = '';
    const ready = new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        log += d.toString();
        const m = /backend (\S+),/.exec(log);
        if (m) resolve(m[1]!);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, sig) =>
        reject(new Error(`worker exited (${code ?? sig}) before ready:\n${log}`)),
      );
    });
    ready.catch(() => {});
    out.push({
      process: child,
      pid: child.pid!,
      output: () => log,
      ready,
      stop: async (graceMs = 10_000) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      },
    });
  }
  return out;
}
