#!/usr/bin/env node
// Sums the vitest JSON reports of every package (test-results/vitest.json) and prints CI's closing line,
// `N passed, N failed` (plus skipped). Exits 1 when any test failed or a suite failed to load.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let suitesFailed = 0;
const seen = [];
for (const group of ['packages', 'apps']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const f = join(dir, name, 'test-results', 'vitest.json');
    if (!existsSync(f)) continue;
    const r = JSON.parse(readFileSync(f, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    suitesFailed += r.numFailedTestSuites ?? 0;
    seen.push(`${group}/${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
}
console.log(seen.join('\n'));
if (suitesFailed > 0) console.log(`${suitesFailed} test file(s) failed to run`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || suitesFailed > 0 || passed === 0 ? 1 : 0);
