import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';

describe('pnpm demo (smoke mode)', () => {
  it('trains, samples closer to held-out data than the initial noise, and writes every output', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ebm-demo-'));
    try {
      const s = await runDemo({ smoke: true, outDir: out, seed: 3 });
      // the learned model's samples beat the noise they started from, by a margin
      expect(s.mmd.samples).toBeLessThan(0.6 * s.mmd.initialNoise);
      // the learned energy is lower on held-out data than on the noise box
      expect(s.meanEnergy.data).toBeLessThan(s.meanEnergy.noise - 1);
      expect(Number.isFinite(s.finalLoss)).toBe(true);
      for (const f of [
        'landscape.png',
        'landscape.svg',
        'samples.png',
        'samples.svg',
        'training.png',
        'training.svg',
      ]) {
        expect(existsSync(join(out, f))).toBe(true);
      }
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary.settings).toMatchObject({
        dataset: 'twoMoons',
        loss: 'pcd',
        sampler: 'langevin',
        seed: 3,
        backend: 'cpu',
      });
      expect(summary.wallTimeMs).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'samples.svg'), 'utf8')).toContain('<svg');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('rejects bad settings with EbmError', async () => {
    await expect(runDemo({ dataset: 'nope' as never })).rejects.toThrowError(
      /INVALID_PARAM.*unknown dataset/,
    );
    await expect(runDemo({ loss: 'xx' as never })).rejects.toThrowError(/unknown loss/);
    await expect(runDemo({ sampler: 'xx' as never })).rejects.toThrowError(/unknown sampler/);
    await expect(runDemo({ steps: 0 })).rejects.toThrowError(/steps must be an integer/);
  });

  it('the CLI prints help and explains bad flags', () => {
    const cli = join(import.meta.dirname, '..', 'src', 'demo', 'cli.ts');
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const help = execFileSync(tsx, [cli, '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/--dataset <name>/);
    expect(help).toMatch(
      /--loss <name>\s+training loss \(choices:\s+"pcd",\s+"cd",\s+"dsm",\s+"ssm",\s+"nce"/,
    );
    expect(help).toMatch(/--backend <name>/);
    let err = '';
    try {
      execFileSync(tsx, [cli, '--steps', '-3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toMatch(/steps must be an integer >= 1/);
    err = '';
    try {
      execFileSync(tsx, [cli, '--loss', 'bogus'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toMatch(/Allowed choices are pcd, cd, dsm, ssm, nce/);
  });
});
