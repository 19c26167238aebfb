import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('chain worker pool from the built dist (plain Node)', () => {
  it('gives bit-identical chains for 0 (in-thread), 1, 2 and 3 workers, equal to the cpu chain kernel', () => {
    const script = fileURLToPath(new URL('./fixtures/chain-pool.mjs', import.meta.url));
    const text = execFileSync(process.execPath, [script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = text
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop()!;
    const r = JSON.parse(line) as {
      out: Record<
        string,
        Record<string, { identical: boolean; workers: number; acceptance: number | null; leaked: number }>
      >;
      error: string;
      unknown: string;
    };
    for (const method of ['langevin', 'mala', 'hmc']) {
      const runs = r.out[method]!;
      for (const w of ['0', '1', '2', '3']) {
        expect(runs[w], `${method}, ${w} workers`).toMatchObject({
          identical: true,
          workers: Number(w),
          leaked: 0,
        });
        expect(runs[w]!.acceptance).toBe(runs['0']!.acceptance);
      }
      if (method !== 'langevin') expect(runs['0']!.acceptance).toBeGreaterThan(0.05);
    }
    expect(r.error).toBe('INVALID_PARAM');
    expect(r.unknown).toBe('INVALID_PARAM');
  });
});
