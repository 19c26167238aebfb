/**
 * Extracts every ```ts code block written inline on a page of the site — the pages under `src/` and the
 * package READMEs they include with `<!--@include: …-->` — into `.blocks/*.ts`, which `tsc` then type-checks
 * with the snippets (`pnpm typecheck`). Code shown with `<<<` includes lives in `snippets/` and is checked
 * there. Generated pages (`src/api`, `src/examples`) are skipped: their code is the packages' own sources.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const here = join(import.meta.dirname, '..');
const src = join(here, 'src');
const out = join(here, '.blocks');

function pages(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    if (statSync(p).isDirectory())
      return ['api', 'examples', 'public'].includes(f) && d === src ? [] : pages(p);
    return p.endsWith('.md') ? [p] : [];
  });
}

/** The page's text with its `<!--@include: path-->` directives expanded (one level, as the pages use them). */
function expanded(page: string): string {
  return readFileSync(page, 'utf8').replace(
    /<!--@include:\s*([^\s{]+)(?:\{[^}]*\})?\s*-->/g,
    (_, p: string) => readFileSync(resolve(dirname(page), p), 'utf8'),
  );
}

export function extractBlocks(): string[] {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const page of pages(src)) {
    const text = expanded(page);
    let n = 0;
    for (const m of text.matchAll(/^```(?:ts|typescript)\b[^\n]*\n([\s\S]*?)^```/gm)) {
      const name = `${relative(src, page).replace(/\.md$/, '').replace(/[\\/]/g, '__')}-${++n}.ts`;
      writeFileSync(join(out, name), `// from ${relative(here, page)}, block ${n}\n${m[1]}\nexport {};\n`);
      written.push(name);
    }
  }
  return written;
}

const blocks = extractBlocks();
console.log(`[docs] ${blocks.length} inline ts blocks extracted to .blocks/ for tsc`);
