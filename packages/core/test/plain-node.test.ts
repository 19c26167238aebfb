import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('plain node ESM script importing @ebm/core (built dist)', () => {
  it('computes the gradient of a Gaussian energy with autograd and uses chained ops', () => {
    const script = fileURLToPath(new URL('./fixtures/plain-node.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop()!;
    const r = JSON.parse(line) as { backend: string; grad: number[]; chained: number };
    expect(r.backend).toBe('cpu');
    // P (x - mu), P = [[2, .5], [.5, 1]], mu = (1, -1): x=(0,0) -> (-1.5, 0.5); x=(2,1) -> (3, 2.5)
    const expected = [-1.5, 0.5, 3, 2.5];
    r.grad.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(r.chained).toBe(7); // (0+1)+(0+1)+(2+1)+(1+1)
  });
});
