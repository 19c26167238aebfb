/**
 * Every code block on the site lives in `snippets/` (shown with VitePress's `<<<` include), is type-checked by
 * `pnpm typecheck`, and is run here on the cpu backend: each snippet is a module that runs top to bottom and
 * exports `result`. Checks that each ran and, where cheap, what it computed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { useBackend } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', 'snippets');
function walk(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const files = walk(root).sort();

/** What some snippets must have computed. */
const checks: Record<string, (r: Record<string, unknown>) => void> = {
  'start/sample.ts': (r) => {
    for (const v of r.rhat as number[]) expect(v).toBeLessThan(1.1);
    for (const v of r.essBulk as number[]) expect(v).toBeGreaterThan(50);
  },
  'start/train.ts': (r) => {
    const l = r.losses as number[];
    expect(l).toHaveLength(20);
    expect(l.every(Number.isFinite)).toBe(true);
  },
  'torchebm/hmc.ts': (r) => expect(r.acceptance).toBeGreaterThan(0.5),
  'plugins/energy.ts': (r) => expect(r.gap).toBeLessThan(1e-4),
  // 2000 chains: the variance of N(0, 1) within ~6 standard errors (SE ≈ √(2/4000) ≈ 0.022)
  'plugins/sampler.ts': (r) => {
    expect(Math.abs((r.variance as number) - 1)).toBeLessThan(0.14);
    expect(r.acceptance).toBeGreaterThan(0.2);
  },
  'plugins/loss.ts': (r) => expect(r.last).toBeLessThan(r.first as number),
  'plugins/kernel.ts': (r) => expect(r.calls).toBe(10),
};

beforeAll(async () => {
  await useBackend('cpu');
});

describe('site snippets run', () => {
  it('finds the snippets, and every page include points at one that exists', () => {
    expect(files.length).toBeGreaterThan(10);
    const pages = join(import.meta.dirname, '..', 'src');
    const md = (d: string): string[] =>
      readdirSync(d).flatMap((f) => {
        const p = join(d, f);
        if (statSync(p).isDirectory()) return ['api', 'examples', 'public'].includes(f) ? [] : md(p);
        return p.endsWith('.md') ? [p] : [];
      });
    for (const page of md(pages)) {
      for (const m of readFileSync(page, 'utf8').matchAll(
        /^<<< @\/\.\.\/snippets\/([\w/.-]+?)(?:#[\w-]+)?(?:\{.*\})?$/gm,
      )) {
        expect(
          files.map((f) => relative(root, f)),
          `${relative(pages, page)} includes ${m[1]}`,
        ).toContain(m[1]);
      }
    }
  });
  for (const f of files) {
    const name = relative(root, f);
    it(name, async () => {
      const before = tf.memory().numTensors;
      const mod = (await import(f)) as { result?: Record<string, unknown> };
      expect(mod.result).toBeDefined();
      checks[name]?.(mod.result!);
      if (tf.getBackend() !== 'cpu') await useBackend('cpu');
      // snippets clean up after themselves (a trained energy they export keeps its weights)
      const kept = mod.result!.energy as { trainableVariables?: tf.Variable[] } | undefined;
      expect(tf.memory().numTensors - before).toBeLessThanOrEqual(kept?.trainableVariables?.length ?? 0);
    });
  }
});
