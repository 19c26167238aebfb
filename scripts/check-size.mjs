#!/usr/bin/env node
// Size budget per published package (run by `pnpm lint:packages`, after `pnpm build`): each public entry of
// dist/ (every `exports` subpath, and its `browser` file when it has one) is bundled by esbuild as a user's
// bundler would, minified, with peers, Node built-ins and @ebm/* siblings external, and gzipped (level 9).
// The result must fit the budget in scripts/size-budgets.json (measured + ~10 % headroom).
// `node scripts/check-size.mjs --update` rewrites the budgets from the current build (review the diff).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(join(root, 'packages', 'core', 'package.json'));
const { build } = require('esbuild');
const budgetsFile = join(root, 'scripts', 'size-budgets.json');
const update = process.argv.includes('--update');
const budgets = existsSync(budgetsFile) ? JSON.parse(readFileSync(budgetsFile, 'utf8')) : {};
const HEADROOM = 1.1;

async function measure(file, external, platform) {
  const out = await build({
    entryPoints: [file],
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    target: 'es2022',
    write: false,
    external,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const code = out.outputFiles[0].contents;
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length };
}

const rows = [];
const problems = [];
const next = {};
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const base = join(root, 'packages', dir);
  if (!existsSync(join(base, 'package.json'))) continue;
  const pj = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
  if (pj.private) continue;
  const external = [
    ...Object.keys(pj.peerDependencies ?? {}).flatMap((p) => [p, `${p}/*`]),
    '@ebm/*',
    ...builtinModules,
    'node:*',
  ];
  next[pj.name] = {};
  for (const [sub, cond] of Object.entries(pj.exports ?? {})) {
    if (typeof cond === 'string') continue;
    const entries = [[sub, cond.import, /node/.test(sub) ? 'node' : 'browser']];
    if (cond.browser) entries.push([`${sub} (browser)`, cond.browser, 'browser']);
    for (const [name, rel, platform] of entries) {
      const file = join(base, rel);
      if (!existsSync(file)) {
        problems.push(`${pj.name} ${name}: ${rel} is not built (run pnpm build first)`);
        continue;
      }
      const { min, gz } = await measure(file, external, platform);
      const budget = budgets[pj.name]?.[name];
      next[pj.name][name] = Math.ceil((gz * HEADROOM) / 100) * 100;
      rows.push({ pkg: pj.name, entry: name, min, gz, budget });
      if (update) continue;
      if (budget === undefined) problems.push(`${pj.name} ${name}: no budget in scripts/size-budgets.json`);
      else if (gz > budget)
        problems.push(`${pj.name} ${name}: ${gz} B min+gzip is over its budget of ${budget} B`);
    }
  }
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const r of rows)
  console.log(
    `${r.pkg.padEnd(15)} ${r.entry.padEnd(22)} min ${kb(r.min).padStart(10)}  min+gzip ${kb(r.gz).padStart(9)}` +
      (r.budget ? `  (budget ${kb(r.budget)})` : ''),
  );
if (update) {
  writeFileSync(budgetsFile, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`check-size: wrote ${budgetsFile}`);
} else {
  for (const [pkg, entries] of Object.entries(budgets))
    for (const name of Object.keys(entries))
      if (!rows.some((r) => r.pkg === pkg && r.entry === name))
        problems.push(
          `${pkg} ${name}: budgeted, but no such entry (remove it from scripts/size-budgets.json)`,
        );
  if (problems.length) {
    console.error(`check-size: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`check-size: ${rows.length} entries within budget.`);
}
