#!/usr/bin/env node
// Package metadata rule: what every published @ebm package must carry (run by `pnpm lint:packages`).
// - LICENSE: a copy of the root MIT LICENSE, listed in `files`; `license: "MIT"`.
// - `repository` (git, with `directory: packages/<dir>`), `homepage`, `bugs`.
// - every subpath export has `types` first and `import` + `default` (the same ESM file) last, so `require()`
//   of the ESM build works where Node allows it; a `browser` condition, if any, sits before `import`.
// - one version for the whole fixed group, and the package listed in .changeset/config.json's `fixed` group.
// - third-party code in dist/ needs a NOTICE in `files` (tfjs-core's Apache-2.0 gradient code in @ebm/core).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const problems = [];
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
if (!/^MIT License/.test(license)) problems.push('LICENSE at the root must be the MIT License');
const rootPj = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (rootPj.license !== 'MIT') problems.push('root package.json: license must be "MIT"');
const fixed = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8')).fixed?.[0] ?? [];

const versions = new Map();
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (name.endsWith('.js')) yield p;
  }
}

for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const base = join(root, 'packages', dir);
  if (!existsSync(join(base, 'package.json'))) continue;
  const pj = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
  if (pj.private) continue;
  const bad = (msg) => problems.push(`${pj.name} (packages/${dir}/package.json): ${msg}`);
  if (pj.license !== 'MIT') bad('license must be "MIT"');
  if (!existsSync(join(base, 'LICENSE'))) bad('missing LICENSE (copy the root LICENSE)');
  else if (readFileSync(join(base, 'LICENSE'), 'utf8') !== license)
    bad('LICENSE differs from the root LICENSE');
  if (!pj.files?.includes('LICENSE')) bad('`files` must list "LICENSE"');
  const repo = pj.repository;
  if (typeof repo !== 'object' || repo.type !== 'git' || !/^git\+https:\/\/.+\.git$/.test(repo.url ?? ''))
    bad('`repository` must be { type: "git", url: "git+https://….git", directory }');
  else if (repo.directory !== `packages/${dir}`) bad(`repository.directory must be "packages/${dir}"`);
  if (typeof pj.homepage !== 'string' || !pj.homepage.startsWith('https://')) bad('`homepage` missing');
  if (typeof pj.bugs?.url !== 'string' || !pj.bugs.url.startsWith('https://')) bad('`bugs.url` missing');
  if (!pj.engines?.node) bad('`engines.node` missing');
  if (pj.publishConfig?.access !== 'public') bad('`publishConfig.access` must be "public"');
  if (!fixed.includes(pj.name)) bad('not in the fixed group of .changeset/config.json');
  versions.set(pj.name, pj.version);
  for (const [sub, cond] of Object.entries(pj.exports ?? {})) {
    if (typeof cond === 'string') {
      if (sub !== './package.json') bad(`exports["${sub}"] must be a conditions object`);
      continue;
    }
    const keys = Object.keys(cond);
    if (keys[0] !== 'types') bad(`exports["${sub}"]: "types" must come first`);
    if (!cond.import || cond.default !== cond.import)
      bad(`exports["${sub}"]: needs "import" and a "default" pointing at the same file`);
    if (keys.at(-1) !== 'default') bad(`exports["${sub}"]: "default" must come last`);
    if ('browser' in cond && keys.indexOf('browser') > keys.indexOf('import'))
      bad(`exports["${sub}"]: "browser" must come before "import"`);
  }
  // Third-party code bundled into dist/ needs a NOTICE shipped beside it.
  const dist = join(base, 'dist');
  if (existsSync(dist)) {
    const apache = [...walk(dist)].filter((f) =>
      /\b[a-z]\w*GradConfig\s*=\s*\{/.test(readFileSync(f, 'utf8')),
    );
    if (apache.length > 0) {
      const notice = existsSync(join(base, 'NOTICE')) ? readFileSync(join(base, 'NOTICE'), 'utf8') : '';
      if (!pj.files?.includes('NOTICE') || !/Apache License/.test(notice) || !/tfjs-core/.test(notice))
        bad(
          `dist/ bundles tfjs-core gradient code (${apache.length} file(s)): ship a NOTICE naming it with the Apache-2.0 text`,
        );
    }
  }
}
if (new Set(versions.values()).size > 1)
  problems.push(
    `the fixed group must share one version: ${[...versions].map((e) => e.join('@')).join(', ')}`,
  );

if (problems.length) {
  console.error(`check-packages: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `check-packages: ${versions.size} published packages carry LICENSE, metadata and export conditions.`,
);
