import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkpointFileName,
  readLatestCheckpoint,
  type TrainingCheckpoint,
  writeCheckpointFile,
} from '../src/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ebm-ckpt-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function fakeCheckpoint(step: number): TrainingCheckpoint {
  return {
    version: 1,
    step,
    key: [0, 1],
    attempt: 0,
    weights: [{ name: 'w', shape: [2], dtype: 'float32', data: [step, -step] }],
    optimizer: null,
    optimizerExtra: {},
    loss: null,
  };
}

describe('checkpoint files', () => {
  it('write atomically, keep the newest `keep`, and read the newest valid one (torn and temp files skipped)', async () => {
    const dir = await tempDir();
    for (const s of [1, 2, 3]) await writeCheckpointFile(dir, fakeCheckpoint(s), { keep: 2 });
    expect((await readdir(dir)).sort()).toEqual([checkpointFileName(2), checkpointFileName(3)]);
    expect((await readLatestCheckpoint(dir))?.step).toBe(3);
    // A torn newer file (what a non-atomic writer leaves when killed) and a stale temp file are skipped.
    const full = JSON.stringify(fakeCheckpoint(4));
    await writeFile(join(dir, checkpointFileName(4)), full.slice(0, full.length / 2));
    await writeFile(join(dir, '.tmp-123-0-abc'), full);
    expect((await readLatestCheckpoint(dir))?.step).toBe(3);
    // A validator rejecting the newest falls back to the previous one.
    const r = await readLatestCheckpoint(dir, (c) => {
      if ((c as TrainingCheckpoint).step === 3) throw new Error('not for this run');
    });
    expect(r?.step).toBe(2);
    expect(await readLatestCheckpoint(join(dir, 'missing'))).toBeUndefined();
  });
});

const CHILD = fileURLToPath(new URL('./fixtures/kill-resume-child.mjs', import.meta.url));
// Long enough that five kills, each ≤ 150 ms after a new checkpoint, cannot reach the end even on an idle machine
// (≈ 6 ms per step on the 2-core VM: 60 steps were finished by the fifth kill there, so nothing was interrupted).
const STEPS = 400;

function lastJson(out: string): { step: number; weights: number[][] } {
  const line = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop()!;
  return JSON.parse(line);
}

async function runToEnd(dir: string): Promise<{ step: number; weights: number[][] }> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, dir, String(STEPS)], {
    encoding: 'utf8',
  });
  return lastJson(stdout);
}

async function newestStep(dir: string): Promise<number> {
  return (await readLatestCheckpoint(dir))?.step ?? -1;
}

/** Starts a training child and SIGKILLs it at a random moment after it has written a new checkpoint. */
async function killMidRun(dir: string, rand: () => number): Promise<void> {
  const before = await newestStep(dir);
  const child: ChildProcess = spawn(process.execPath, [CHILD, dir, String(STEPS)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const t0 = Date.now();
  while ((await newestStep(dir)) <= before && Date.now() - t0 < 60_000) {
    await new Promise((r) => setTimeout(r, 5));
  }
  // Random moment from here on: between steps, inside a step, or while a checkpoint file is being written.
  await new Promise((r) => setTimeout(r, rand() * 150));
  child.kill('SIGKILL');
  await exited;
}

describe('fit({ checkpointDir }) survives kill -9', () => {
  it('5 random SIGKILLs (mid-step and mid-write), then a resume: nothing lost, bit-identical to an uninterrupted run', async () => {
    const reference = await runToEnd(await tempDir());
    expect(reference.step).toBe(STEPS);

    const dir = await tempDir();
    let s = 12345;
    const rand = () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    let last = -1;
    for (let i = 0; i < 5; i++) {
      await killMidRun(dir, rand);
      const step = await newestStep(dir);
      expect(step).toBeGreaterThan(last); // progress kept: the newest valid checkpoint only moves forward
      last = step;
    }
    expect(last).toBeLessThan(STEPS); // the kills did interrupt the run
    const resumed = await runToEnd(dir);
    expect(resumed.step).toBe(STEPS);
    expect(resumed.weights).toEqual(reference.weights); // bit-identical
  }, 180_000);
});
