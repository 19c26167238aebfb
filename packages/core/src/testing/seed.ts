/**
 * Seed policy of the test suites: a fixed default seed so runs are reproducible; `EBM_SEED=<int>` to pick one;
 * `EBM_VARY_SEED=1` to draw a fresh seed per call (printed, so a failure can be replayed with `EBM_SEED`).
 * @module
 */

/** The default base seed of `@ebm` test suites. */
export const DEFAULT_TEST_SEED = 20261123;

function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * The seed for a test: `EBM_SEED` (or the default) mixed with a hash of `name`, so tests get distinct
 * streams; under `EBM_VARY_SEED=1` a random seed, logged with `name`.
 */
export function testSeed(name = ''): number {
  if (env('EBM_VARY_SEED') === '1') {
    const s = Math.floor(Math.random() * 2 ** 31);
    console.log(`[ebm] ${name || 'test'}: seed ${s} (EBM_VARY_SEED=1; rerun with EBM_SEED=${s})`);
    return s;
  }
  const raw = env('EBM_SEED');
  const base =
    raw !== undefined && raw !== '' && Number.isSafeInteger(Number(raw)) ? Number(raw) : DEFAULT_TEST_SEED;
  if (raw !== undefined && raw !== '') return base; // an explicit seed is used as is, to replay a failure
  return name === '' ? base : (base ^ hashString(name)) >>> 0;
}

/** True when the suite runs with varying seeds. */
export function seedsVary(): boolean {
  return env('EBM_VARY_SEED') === '1';
}
