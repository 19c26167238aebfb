import { assertInteger, EbmError } from '@ebm/core';
import type { TrainingCheckpoint } from './checkpoint.js';

/**
 * # Checkpoint files (Node)
 *
 * Atomic checkpoint files: each checkpoint is written to a temporary file in the same folder, flushed to disk
 * (`fsync`), renamed over its final name `checkpoint-<step>.json` (a rename is atomic on POSIX file systems)
 * and the folder is flushed; the newest `keep` files are kept. A process killed at any moment — even
 * mid-write — leaves every earlier complete checkpoint intact; {@link readLatestCheckpoint} returns the newest
 * file that parses and validates. `node:fs` is loaded on first use only, so browsers never load it.
 * @module
 */

const PREFIX = 'checkpoint-';
const SUFFIX = '.json';
const TMP = '.tmp-';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

let nodeModules: Promise<{ fs: Fs; path: Path }> | undefined;

/** node:fs/promises and node:path, imported lazily through a variable so bundlers leave them out. */
function node(): Promise<{ fs: Fs; path: Path }> {
  if (nodeModules === undefined) {
    const fsName = 'node:fs/promises';
    const pathName = 'node:path';
    nodeModules = Promise.all([
      import(/* @vite-ignore */ fsName) as Promise<Fs>,
      import(/* @vite-ignore */ pathName) as Promise<Path>,
    ]).then(
      ([fs, path]) => ({ fs, path }),
      (cause: unknown) => {
        nodeModules = undefined;
        throw new EbmError('BACKEND_UNAVAILABLE', 'Checkpoint files need Node (node:fs).', {
          argument: 'checkpointDir',
          fix: 'in a browser, save the checkpoint passed to onCheckpoint yourself (e.g. to IndexedDB).',
          cause,
        });
      },
    );
  }
  return nodeModules;
}

/** The file name of the checkpoint of `step` (zero-padded so names sort by step). */
export function checkpointFileName(step: number): string {
  assertInteger('step', step, 0, 1e15 - 1);
  return `${PREFIX}${String(step).padStart(12, '0')}${SUFFIX}`;
}

function stepOfFile(name: string): number | undefined {
  if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) return undefined;
  const digits = name.slice(PREFIX.length, -SUFFIX.length);
  return /^\d{1,15}$/.test(digits) ? Number(digits) : undefined;
}

/** Options of {@link writeCheckpointFile}. */
export interface WriteCheckpointOptions {
  /** Checkpoint files to keep (default 2: this one and the one before). */
  readonly keep?: number;
}

/**
 * Writes `checkpoint` to `<dir>/checkpoint-<step>.json` atomically (temporary file, fsync, rename, fsync of
 * the folder), creating the folder if needed, then deletes all but the newest `keep` checkpoint files.
 * Returns the file's path.
 */
export async function writeCheckpointFile(
  dir: string,
  checkpoint: TrainingCheckpoint,
  options: WriteCheckpointOptions = {},
): Promise<string> {
  const keep = options.keep ?? 2;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new EbmError('INVALID_PARAM', 'keep must be an integer ≥ 1.', {
      argument: 'keep',
      value: keep,
      fix: 'keep at least the newest checkpoint (keep: 2 also keeps the one before).',
    });
  }
  const { fs, path } = await node();
  await fs.mkdir(dir, { recursive: true });
  const final = path.join(dir, checkpointFileName(checkpoint.step));
  const tmp = path.join(dir, `${TMP}${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(checkpoint));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, final);
  await syncDir(fs, dir);
  const files = (await fs.readdir(dir))
    .map((f) => ({ f, step: stepOfFile(f) }))
    .filter((e): e is { f: string; step: number } => e.step !== undefined)
    .sort((a, b) => b.step - a.step);
  for (const { f } of files.slice(keep)) await fs.rm(path.join(dir, f), { force: true });
  return final;
}

async function syncDir(fs: Fs, dir: string): Promise<void> {
  let h: Awaited<ReturnType<Fs['open']>> | undefined;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch {
    // Some platforms (Windows) cannot fsync a folder; the rename is still atomic.
  } finally {
    await h?.close();
  }
}

/** Deletes temporary files left in `dir` by a writer that was killed mid-write. */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  const { fs, path } = await node();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const f of names) if (f.startsWith(TMP)) await fs.rm(path.join(dir, f), { force: true });
}

/**
 * The newest checkpoint in `dir` that parses as JSON and passes `validate` (e.g. `validateTrainingCheckpoint`
 * against the run it will resume), or `undefined` when there is none (or no folder). Files that fail are
 * skipped, never deleted. JSON is parsed as untrusted data: a `"__proto__"` key stays a plain field, which
 * validation rejects.
 */
export async function readLatestCheckpoint(
  dir: string,
  validate?: (checkpoint: unknown) => unknown,
): Promise<TrainingCheckpoint | undefined> {
  const { fs, path } = await node();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return undefined;
  }
  const files = names
    .map((f) => ({ f, step: stepOfFile(f) }))
    .filter((e): e is { f: string; step: number } => e.step !== undefined)
    .sort((a, b) => b.step - a.step);
  for (const { f } of files) {
    try {
      const doc: unknown = JSON.parse(await fs.readFile(path.join(dir, f), 'utf8'));
      if (doc === null || typeof doc !== 'object') continue;
      validate?.(doc);
      return doc as TrainingCheckpoint;
    } catch {
      // torn, foreign or invalid: try the next older file
    }
  }
  return undefined;
}
