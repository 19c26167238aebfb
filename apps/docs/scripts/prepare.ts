/**
 * Generates the parts of the site that come from the code, before `vitepress build`:
 *
 * 1. runs the example curriculum (`apps/examples`) in smoke mode into `src/public/examples/<name>/` — the real
 *    scripts on the cpu backend, a few seconds each — and writes one page per example (its header, its figures,
 *    its result numbers and its full source) plus the examples index and sidebar;
 * 2. generates the API reference with TypeDoc (typedoc-plugin-markdown + typedoc-vitepress-theme) into
 *    `src/api/`.
 *
 * Flags: `--if-missing` skips a step whose output exists (for `pnpm dev`), `--no-examples`, `--no-api`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EXAMPLES } from '../../examples/src/examples/index.js';

const here = join(import.meta.dirname, '..');
const repo = join(here, '..', '..');
const src = join(here, 'src');
const args = new Set(process.argv.slice(2));
const ifMissing = args.has('--if-missing');

async function timed(label: string, f: () => void | Promise<void>): Promise<void> {
  const t0 = Date.now();
  await f();
  console.log(`[docs] ${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** The first JSDoc block of a file, without its comment markers. */
export function headerOf(source: string): string {
  const m = /\/\*\*([\s\S]*?)\*\//.exec(source);
  if (m === null) return '';
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

const TIER_TITLES: Record<string, string> = {
  foundations: 'Foundations',
  sampling: 'Sampling',
  training: 'Training',
  practice: 'In practice',
};

/** Runs the curriculum in smoke mode, in two processes (the machines here have two cores). */
async function runExamples(): Promise<void> {
  const out = join(src, 'public', 'examples');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const cli = join(repo, 'apps', 'examples', 'src', 'run-example.ts');
  const tsx = join(here, 'node_modules', '.bin', 'tsx');
  const groups = [0, 1].map((g) => EXAMPLES.filter((_, i) => i % 2 === g).map((e) => e.name));
  const codes = await Promise.all(
    groups.map(
      (names) =>
        new Promise<number | null>((resolve) => {
          const p = spawn(tsx, [cli, ...names, '--smoke', '--out', out], {
            cwd: join(repo, 'apps', 'examples'),
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          p.on('close', resolve);
        }),
    ),
  );
  if (codes.some((c) => c !== 0))
    throw new Error(`the examples failed (exit ${codes}); run pnpm example all --smoke`);
  // the pages show the SVG figures; the PNG copies would only weigh on the site
  for (const d of readdirSync(out)) {
    for (const f of readdirSync(join(out, d))) if (f.endsWith('.png')) rmSync(join(out, d, f));
  }
}

function examplePages(): void {
  const dir = join(src, 'examples');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const figures = join(src, 'public', 'examples');
  const rows: string[] = [];
  const sidebar: { text: string; link: string }[] = [];
  for (const ex of EXAMPLES) {
    const file = join(repo, 'apps', 'examples', 'src', 'examples', `${ex.name}.ts`);
    const code = readFileSync(file, 'utf8');
    const figDir = join(figures, ex.name);
    const svgs = existsSync(figDir)
      ? readdirSync(figDir)
          .filter((f) => f.endsWith('.svg'))
          .sort()
      : [];
    const result = existsSync(join(figDir, 'result.json'))
      ? readFileSync(join(figDir, 'result.json'), 'utf8')
      : '';
    const rel = relative(dir, file);
    const lines = [
      `# ${ex.title}`,
      '',
      `<p class="ebm-tier">${TIER_TITLES[ex.tier] ?? ex.tier} · <code>pnpm example ${ex.name}</code></p>`,
      '',
      headerOf(code),
      '',
      '## Figures',
      '',
      'Made by the script below in smoke mode (`--smoke`: small sizes) when this site was built, on the cpu backend.',
      '',
      ...svgs.map((s) => `![${ex.title}: ${s.replace('.svg', '')}](/examples/${ex.name}/${s})\n`),
      ...(result === ''
        ? []
        : ['## Result', '', '`result.json` of that run:', '', '```json', result.trim(), '```', '']),
      '## Code',
      '',
      `<<< ${rel}`,
      '',
    ];
    writeFileSync(join(dir, `${ex.name}.md`), lines.join('\n'));
    rows.push(`| ${TIER_TITLES[ex.tier] ?? ex.tier} | [${ex.title}](./${ex.name}.md) | ${ex.summary} |`);
    sidebar.push({ text: ex.title, link: `/examples/${ex.name}` });
  }
  writeFileSync(
    join(dir, 'index.md'),
    [
      '# Examples',
      '',
      "The curriculum of `apps/examples`: TorchEBM's examples ported to TypeScript, plus the ones TorchEBM lacks.",
      'Each page shows the figures the script itself drew when this site was built (smoke mode, cpu backend) and',
      'its full source. Run one locally with `pnpm example <name>` (full size) or `pnpm example <name> --smoke`.',
      '',
      '| tier | example | what it shows |',
      '| --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'sidebar.json'), JSON.stringify(sidebar, null, 2));
}

function apiReference(): void {
  const out = join(src, 'api');
  rmSync(out, { recursive: true, force: true });
  const typedoc = join(here, 'node_modules', '.bin', 'typedoc');
  const r = spawnSync(typedoc, ['--options', join(here, 'typedoc.json')], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`typedoc failed (exit ${r.status})`);
}

if (!args.has('--no-examples') && !(ifMissing && existsSync(join(src, 'examples', 'index.md')))) {
  await timed('examples (smoke mode, two processes)', runExamples);
  await timed('example pages', examplePages);
}
if (!args.has('--no-api') && !(ifMissing && existsSync(join(src, 'api', 'index.md')))) {
  await timed('API reference (TypeDoc)', apiReference);
}
