/** The live demos' bundles stay within `size-budget.json` (KB of min+gzip JavaScript). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoSizes } from '../scripts/bundle-size.js';

const budget = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'size-budget.json'), 'utf8')) as {
  initial: Record<string, number>;
  lazy: Record<string, number>;
};

describe('demo bundle size budget (min+gzip)', () => {
  it('each demo and each lazily loaded backend chunk is within its budget', async () => {
    const sizes = await demoSizes();
    const kb = (b: number) => Math.round((b / 1024) * 10) / 10;
    console.log('[docs] demo bundles, KB min+gzip:', {
      initial: Object.fromEntries(Object.entries(sizes.initial).map(([k, v]) => [k, kb(v)])),
      lazy: Object.fromEntries(Object.entries(sizes.lazy).map(([k, v]) => [k, kb(v)])),
    });
    expect(Object.keys(sizes.initial).sort()).toEqual(['gallery', 'playground']);
    for (const [name, limit] of Object.entries(budget.initial)) {
      expect(kb(sizes.initial[name] ?? Number.POSITIVE_INFINITY), `${name} (initial)`).toBeLessThanOrEqual(
        limit,
      );
    }
    for (const [name, limit] of Object.entries(budget.lazy)) {
      expect(sizes.lazy[name], `${name} is a lazy chunk`).toBeDefined();
      expect(kb(sizes.lazy[name]!), `${name} (lazy)`).toBeLessThanOrEqual(limit);
    }
    // nothing unbudgeted beyond the wasm binary URL stubs
    const extra = Object.keys(sizes.lazy).filter((k) => !(k in budget.lazy) && k !== 'wasm binary URLs');
    expect(extra).toEqual([]);
  });
});
