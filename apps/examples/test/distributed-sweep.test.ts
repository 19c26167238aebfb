import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The distributed demo sweep in smoke mode: a private redis-server, 2 worker processes, 2 datasets × 2 losses.
const hasRedis = (() => {
  try {
    execFileSync(process.env.EBM_REDIS_SERVER ?? 'redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.EBM_TEST_REDIS === '1') throw new Error('EBM_TEST_REDIS=1 but redis-server is missing.');
    console.warn('redis-server not found: distributed sweep test skipped (EBM_TEST_REDIS=1 requires it).');
    return false;
  }
})();

describe.runIf(hasRedis)('distributed demo sweep (smoke)', () => {
  it('runs datasets × losses on local workers and writes the table and the figure', () => {
    const out = mkdtempSync(join(tmpdir(), 'ebm-sweep-'));
    try {
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/distributed/sweep.ts',
          '--smoke',
          '--workers',
          '2',
          '--datasets',
          'twoMoons,eightGaussians',
          '--losses',
          'dsm,pcd',
          '--seeds',
          '0',
          '--backend',
          'cpu',
          '--out',
          out,
        ],
        { stdio: 'pipe', timeout: 240_000 },
      );
      const table = readFileSync(join(out, 'table.md'), 'utf8');
      expect(table).toMatch(/\| twoMoons \| dsm \|/);
      expect(table).toMatch(/\| eightGaussians \| pcd \|/);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expect(results.runs).toHaveLength(4);
      for (const r of results.rows) expect(Number.isFinite(r.mmdSamples.mean)).toBe(true);
      for (const f of ['loss-curves.png', 'loss-curves.svg']) expect(existsSync(join(out, f))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
