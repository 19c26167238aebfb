import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const entry = fileURLToPath(new URL('./fixtures/node-bundle-entry.ts', import.meta.url));
/** The README's fix for single-file Node bundles: import the cpu backend in the entry, resolve ESM builds first. */
const cpuImport = "import '@tensorflow/tfjs-backend-cpu';\n";
const banner =
  "import { createRequire as __ebmCr } from 'node:module'; const require = __ebmCr(import.meta.url);";

/** Bundles the fixture into one ESM file in an empty directory (no node_modules to fall back on) and runs it. */
async function bundleAndRun(withCpu: boolean): Promise<Record<string, unknown> & { stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ebm-node-bundle-'));
  try {
    const out = await build({
      stdin: {
        contents: (withCpu ? cpuImport : '') + (await readFile(entry, 'utf8')),
        resolveDir: dirname(entry),
        loader: 'ts',
      },
      bundle: true,
      format: 'esm',
      platform: 'node',
      mainFields: ['module', 'main'],
      write: false,
      logLevel: 'error',
      banner: { js: banner },
    });
    const file = join(dir, 'app.mjs');
    await writeFile(file, out.outputFiles[0]!.text);
    // no NODE_PATH (pnpm sets one): the bundle must not find a node_modules anywhere
    const { NODE_PATH: _, ...env } = process.env;
    const { stdout, stderr } = await run(process.execPath, [file], { cwd: dir, env, timeout: 60_000 });
    const line = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    return { ...(JSON.parse(line ?? '{}') as Record<string, unknown>), stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('@ebm/core in a single-file Node bundle, run away from node_modules', () => {
  it('with the cpu backend imported as the README says, ops run on cpu', async () => {
    const { stderr: _, ...r } = await bundleAndRun(true);
    expect(r).toEqual({ backend: 'cpu', sum: 6, key: 2 });
  }, 60_000);

  it('without it, the first op fails with BACKEND_UNAVAILABLE naming the bundle fix', async () => {
    const r = await bundleAndRun(false);
    expect(String(r.error)).toMatch(/Could not initialize any backends|BACKEND_UNAVAILABLE/);
    // tfjs reports the hint backend's EbmError on stderr: it names the package and the bundle fix
    expect(r.stderr).toMatch(/BACKEND_UNAVAILABLE/);
    expect(r.stderr).toMatch(/--main-fields=module,main/);
  }, 60_000);
});
