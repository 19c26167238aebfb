#!/usr/bin/env node
// Dependency rule (DESIGN.md): at run time every published package depends only on @ebm/core and on tfjs as a
// peer; no package imports a sibling. Checks package.json fields and the import specifiers of non-test sources
// (code in comments, e.g. JSDoc examples, is not an import).
// Packages built on an engine list it in ENGINES and may depend on nothing else at run time: @ebm/distributed
// runs on BullMQ + Redis (ioredis) and rebuilds energies and samplers from an application-provided registry
// instead of importing @ebm/models or @ebm/samplers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const problems = [];
const isTest = (p) => /\.test\.ts$|\.bench\.ts$|[\\/](test|tests|bench|__tests__)[\\/]/.test(p);
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === '_generated') continue;
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}
const pkgName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const ENGINES = { '@ebm/distributed': ['bullmq', 'ioredis'] };
const stripDocComments = (text) => text.replace(/^\s*\/\*\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/.*$/gm, '');

for (const dir of readdirSync(join(root, 'packages'))) {
  const base = join(root, 'packages', dir);
  const pj = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
  const deps = Object.keys(pj.dependencies ?? {});
  const peers = Object.keys(pj.peerDependencies ?? {});
  for (const d of deps) {
    if (d.startsWith('@ebm/') && d !== '@ebm/core')
      problems.push(`${pj.name}: dependency on sibling ${d} (only @ebm/core is allowed)`);
    if (d.startsWith('@tensorflow/'))
      problems.push(`${pj.name}: ${d} must be a peerDependency, not a dependency`);
  }
  if (pj.name in ENGINES) {
    for (const d of deps) {
      if (d !== '@ebm/core' && !ENGINES[pj.name].includes(d))
        problems.push(
          `${pj.name}: run-time dependency ${d} is outside its engine (${ENGINES[pj.name].join(', ')})`,
        );
    }
  }
  for (const p of peers)
    if (p.startsWith('@ebm/') && p !== '@ebm/core') problems.push(`${pj.name}: peer on sibling ${p}`);
  if (!peers.includes('@tensorflow/tfjs-core'))
    problems.push(`${pj.name}: needs a peerDependency on @tensorflow/tfjs-core`);
  const src = join(base, 'src');
  let files = [];
  try {
    files = [...walk(src)].filter((f) => !isTest(relative(base, f)));
  } catch {
    continue;
  }
  for (const f of files) {
    const text = stripDocComments(readFileSync(f, 'utf8'));
    const re =
      /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (const m of text.matchAll(re)) {
      const spec = m[1] ?? m[2];
      if (!spec || spec.startsWith('.') || spec.includes('${') || builtins.has(spec)) continue;
      if (/^import\s+type|^export\s+type/.test(m[0].trim())) continue;
      const name = pkgName(spec);
      if (name === pj.name) continue;
      if (name.startsWith('@ebm/') && name !== '@ebm/core') {
        problems.push(
          `${relative(root, f)}: imports sibling ${spec} at run time (pass it through core's interfaces)`,
        );
      } else if (
        !deps.includes(name) &&
        !peers.includes(name) &&
        !(pj.optionalDependencies && name in pj.optionalDependencies)
      ) {
        problems.push(
          `${relative(root, f)}: imports ${spec}, which ${pj.name} does not declare in dependencies or peerDependencies`,
        );
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`dependency rule: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('dependency rule: ok (packages depend at run time only on @ebm/core and peer tfjs)');
