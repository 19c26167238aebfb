#!/usr/bin/env node
// README code blocks are real code (run by `pnpm lint:packages`, after `pnpm build`):
// - every ```ts block of the root README and of each package README is type-checked in a fresh project that
//   imports the *built* packages, as a user's would: strict, `skipLibCheck: false`, `module: nodenext`;
// - ```js blocks that use @ebm are checked as JavaScript (checkJs); blocks fenced as ```ts run are also executed with Node (cwd: the temp project; 120 s each);
// - every package a README's blocks import appears on one of its `npm i …` lines.
// `node scripts/check-readmes.mjs --keep` leaves the temp project in place and prints its path.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const keep = process.argv.includes('--keep');
const problems = [];
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const pkgName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

const readmes = [join(root, 'README.md')];
const published = [];
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const base = join(root, 'packages', dir);
  if (!existsSync(join(base, 'package.json'))) continue;
  const pj = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
  if (pj.private) continue;
  published.push({ name: pj.name, dir: base });
  if (existsSync(join(base, 'README.md'))) readmes.push(join(base, 'README.md'));
}

/** ```ts blocks (with their info string and first line) and `npm i` package names of a README. */
function parse(file) {
  const text = readFileSync(file, 'utf8');
  const blocks = [];
  const installed = new Set();
  const re = /^```([^\n]*)\n([\s\S]*?)^```\s*$/gm;
  for (const m of text.matchAll(re)) {
    const info = m[1].trim().split(/\s+/);
    const line = text.slice(0, m.index).split('\n').length + 1;
    if (info[0] === 'ts' || info[0] === 'typescript')
      blocks.push({ code: m[2], run: info.includes('run'), line, ext: 'ts' });
    // JavaScript blocks that use @ebm are checked too (checkJs: wrong names and arities, missing exports).
    if ((info[0] === 'js' || info[0] === 'javascript') && /@ebm\//.test(m[2]))
      blocks.push({ code: m[2], run: info.includes('run'), line, ext: 'mjs' });
    if (info[0] === 'bash' || info[0] === 'sh')
      for (const l of m[2].split('\n')) {
        const im = /^\s*(?:npm (?:i|install)|pnpm add|yarn add)\s+(.*)$/.exec(l);
        if (im)
          for (const w of im[1].split(/\s+/))
            if (w && !w.startsWith('-')) installed.add(pkgName(w.replace(/@[\d^~].*$/, '')));
      }
  }
  return { blocks, installed };
}

const work = mkdtempSync(join(tmpdir(), 'ebm-readmes-'));
const nm = join(work, 'node_modules');
mkdirSync(join(nm, '@ebm'), { recursive: true });
mkdirSync(join(nm, '@types'), { recursive: true });
// The built packages, and the third-party packages a user installs beside them (apps/examples has them all).
for (const p of published) symlinkSync(p.dir, join(nm, p.name), 'dir');
for (const donor of [
  join(root, 'apps', 'examples', 'node_modules'),
  ...published.map((p) => join(p.dir, 'node_modules')),
])
  link(donor);
function link(donor) {
  if (!existsSync(donor)) return;
  for (const name of readdirSync(donor)) {
    if (name.startsWith('.') || name === '@ebm') continue;
    if (name.startsWith('@')) {
      mkdirSync(join(nm, name), { recursive: true });
      for (const sub of readdirSync(join(donor, name)))
        if (!existsSync(join(nm, name, sub))) symlinkSync(join(donor, name, sub), join(nm, name, sub), 'dir');
    } else if (!existsSync(join(nm, name))) symlinkSync(join(donor, name), join(nm, name), 'dir');
  }
}
if (!existsSync(join(nm, '@types', 'node')))
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(nm, '@types', 'node'), 'dir');
// npm hoists the @types packages of dependencies (tfjs-core's @types/long, …) to the top, where TypeScript's
// automatic type inclusion finds them: do the same.
for (const name of readdirSync(nm)
  .filter((n) => n.startsWith('@'))
  .flatMap((s) => readdirSync(join(nm, s)).map((n) => `${s}/${n}`))) {
  const types = join(realpathSync(join(nm, name)), '..', '..', '@types');
  if (!existsSync(types)) continue;
  for (const t of readdirSync(types))
    if (!existsSync(join(nm, '@types', t))) symlinkSync(join(types, t), join(nm, '@types', t), 'dir');
}
writeFileSync(
  join(work, 'package.json'),
  JSON.stringify({ name: 'readme-check', private: true, type: 'module' }),
);
writeFileSync(
  join(work, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      lib: ['es2022', 'dom'],
      strict: true,
      skipLibCheck: false,
      outDir: 'out',
      rootDir: 'src',
    },
    include: ['src/**/*.ts'],
  }),
);
// JavaScript blocks: checked as a user's editor checks them (checkJs, not strict: no implicit-any noise).
writeFileSync(
  join(work, 'tsconfig.js.json'),
  JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { allowJs: true, checkJs: true, strict: false },
    include: ['src/**/*.mjs'],
  }),
);
mkdirSync(join(work, 'src'));

const files = [];
for (const readme of readmes) {
  const rel = relative(root, readme);
  const { blocks, installed } = parse(readme);
  blocks.forEach((b, i) => {
    const name = `${rel.replace(/[/.]/g, '_')}_${i + 1}`;
    // Each block is its own module (top-level await allowed).
    writeFileSync(join(work, 'src', `${name}.${b.ext}`), `${b.code}\nexport {};\n`);
    files.push({
      name,
      readme: rel,
      line: b.line,
      run: b.run,
      out: `${name}.${b.ext === 'ts' ? 'js' : 'mjs'}`,
    });
    for (const m of b.code.matchAll(
      /(?:^|\s)(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm,
    )) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.') || builtins.has(spec)) continue;
      if (!installed.has(pkgName(spec)))
        problems.push(
          `${rel}:${b.line}: imports ${spec}, but no \`npm i\` line of ${rel} installs ${pkgName(spec)}`,
        );
    }
  });
}

// Blocks with a known type error that their owner is fixing: reported, not failed. Remove the entry with the fix
// (the check fails while an entry no longer matches an error, so the list cannot go stale).
const KNOWN = {};
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const where = (out) =>
  out.replace(/src\/([\w]+)\.m?[tj]s\((\d+),(\d+)\)/g, (s, name, l) => {
    const f = files.find((x) => x.name === name);
    return f ? `${f.readme}:${f.line + Number(l) - 1} (block at line ${f.line})` : s;
  });
let typed = true;
for (const config of [
  'tsconfig.json',
  ...(files.some((f) => f.out.endsWith('.mjs')) ? ['tsconfig.js.json'] : []),
]) {
  const t = spawnSync(process.execPath, [tsc, '-p', join(work, config)], { encoding: 'utf8' });
  if (t.status !== 0) {
    const text = where(t.stdout + t.stderr);
    const errors = text.split('\n').filter((l) => /error TS\d+/.test(l));
    const known = (l) =>
      Object.keys(KNOWN).some(
        (k) => l.includes(`(block at line ${k.split(':')[1]})`) && l.includes(k.split(':')[0]),
      );
    if (errors.length > 0 && errors.every(known)) {
      console.warn(`check-readmes: known type errors (see KNOWN):\n${text}`);
      for (const k of Object.keys(KNOWN))
        if (!errors.some((l) => l.includes(k.split(':')[0])))
          problems.push(`KNOWN entry ${k} no longer fails: remove it`);
    } else {
      typed = false;
      problems.push(`type errors (${config}):\n${text}`);
    }
  }
}
if (typed)
  for (const f of files.filter((x) => x.run)) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(work, 'out', f.out)], {
      cwd: work,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    if (r.status !== 0)
      problems.push(
        `${f.readme}:${f.line}: the runnable block failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-2000)}`,
      );
    else console.log(`ran ${f.readme}:${f.line} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

if (keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
if (problems.length) {
  console.error(`check-readmes: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `check-readmes: ${files.length} blocks of ${readmes.length} READMEs type-check; ${files.filter((f) => f.run).length} ran.`,
);
