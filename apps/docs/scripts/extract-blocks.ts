/**
 * Extracts every ```ts code block written inline on a page of the site — the pages under `src/` and the
 * package READMEs they include with `<!--@include: …-->` — into `generated-blocks/*.ts`, which `tsc` then type-checks
 * with the snippets (`pnpm typecheck`). Code shown with `<<<` includes lives in `snippets/` and is checked
 * there. Generated pages (`src/api`, `src/examples`) are skipped: their code is the packages' own sources.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const here = join(import.meta.dirname, '..');
const src = join(here, 'src');
const out = join(here, 'generated-blocks');

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
      // a README block may use `x0` (initial states) as given, as the API examples do: declare it when it does
      const free = /\bx0\b/.test(m[1]!) && !/\b(const|let|var)\s+(\{[^}]*\bx0\b[^}]*\}|x0\b)/.test(m[1]!);
      const decl = free ? "declare const x0: import('@tensorflow/tfjs-core').Tensor2D;\n" : '';
      writeFileSync(
        join(out, name),
        `// from ${relative(here, page)}, block ${n}\n${decl}${m[1]}\nexport {};\n`,
      );
      written.push(name);
    }
  }
  return written;
}

/**
 * The API reference's code blocks are the packages' JSDoc `@example`s: fragments that use the package's exports
 * and a few free names (`energy`, `x`, …) without importing or declaring them. Each is checked inside a prelude
 * that imports every run-time export of the seven packages and declares those names with their usual types.
 */
async function apiPrelude(): Promise<string> {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const p of ['core', 'models', 'datasets', 'samplers', 'losses', 'cuda', 'viz']) {
    const names = Object.keys(await import(`@ebm/${p}`)).filter((n) => !seen.has(n) && n !== 'default');
    for (const n of names) seen.add(n);
    lines.push(`import { ${names.join(', ')} } from '@ebm/${p}';`);
  }
  lines.push(
    "import * as tf from '@tensorflow/tfjs-core';",
    "import type { EnergyFunction, Loss, Sampler } from '@ebm/core';",
    "import type { Points2D, TrainingHistory } from '@ebm/viz';",
    'declare const energy: EnergyFunction;',
    'declare const mixture: EnergyFunction;',
    'declare const sampler: Sampler;',
    'declare const x: tf.Tensor2D;',
    'declare const x0: tf.Tensor2D;',
    'declare const t: tf.Tensor1D;',
    "declare const model: import('@ebm/core').TimeField;",
    'declare const data: tf.Tensor2D;',
    'declare const batch: tf.Tensor2D;',
    'declare const optimizer: tf.Optimizer;',
    '// `loss` is a Loss in some examples and a function of a batch in others',
    'declare const loss: Loss & ((batch: tf.Tensor2D) => tf.Scalar);',
    'declare const history: TrainingHistory;',
    'declare const trajectory: tf.Tensor3D;',
    'declare const moonsPoints: Points2D;',
    'declare const ringsPoints: Points2D;',
  );
  return lines.join('\n');
}

export async function extractApiBlocks(): Promise<string[]> {
  const api = join(src, 'api');
  const written: string[] = [];
  if (!existsSync(api)) return written;
  const prelude = await apiPrelude();
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) =>
      statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : f.endsWith('.md') ? [join(d, f)] : [],
    );
  for (const page of walk(api)) {
    let n = 0;
    for (const m of readFileSync(page, 'utf8').matchAll(/^```(?:ts|typescript)\b[^\n]*\n([\s\S]*?)^```/gm)) {
      // an example that elides code on purpose (…, or `...` with nothing spread) is a sketch, not a program
      if (/…|\.\.\.\s*[,)\]}]/.test(m[1]!)) {
        console.log(`[docs] skipped a sketch (elided code) in ${relative(here, page)}`);
        continue;
      }
      const name = `api__${relative(api, page)
        .replace(/\.md$/, '')
        .replace(/[\\/@]/g, '_')}-${++n}.ts`;
      writeFileSync(
        join(out, name),
        `// from ${relative(here, page)}, block ${n}\n${prelude}\n{\n${m[1]}\n}\nexport {};\n`,
      );
      written.push(name);
    }
  }
  return written;
}

const blocks = extractBlocks();
const apiBlocks = await extractApiBlocks();
console.log(
  `[docs] ${blocks.length} inline ts blocks of the pages and ${apiBlocks.length} of the API reference extracted to generated-blocks/ for tsc`,
);
