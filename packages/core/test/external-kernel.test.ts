import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// "A sampler written outside the monorepo as { init, step } runs through the core loop": a temp project that
// holds @ebm/core as *packed* (npm's tarball of the built package, exactly what the registry would serve), with
// its tfjs peers, type-checks a plain-object kernel against the packed types, then runs it with Node.
const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..');
const fixture = join(here, 'fixtures', 'external-kernel');
const require = createRequire(import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'ebm-external-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function peerDir(name: string): string {
  return realpathSync(dirname(require.resolve(`${name}/package.json`)));
}

describe('a kernel written outside the monorepo, against the packed @ebm/core', () => {
  it('type-checks and runs through sampleChain with traces, progress, abort and resume', () => {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: pkgDir, stdio: 'pipe' });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
    const mod = join(tmp, 'node_modules');
    mkdirSync(join(mod, '@ebm', 'core'), { recursive: true });
    mkdirSync(join(mod, '@tensorflow'), { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', join(mod, '@ebm', 'core'), '--strip-components=1']);
    for (const peer of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'])
      symlinkSync(peerDir(peer), join(mod, peer));
    // tfjs-core's own dependencies (long, seedrandom, ...) resolve from its real location in the store.
    writeFileSync(
      join(tmp, 'package.json'),
      JSON.stringify({ name: 'external', type: 'module', private: true }),
    );
    cpSync(join(fixture, 'ar-kernel.ts'), join(tmp, 'ar-kernel.ts'));
    cpSync(join(fixture, 'tsconfig.json'), join(tmp, 'tsconfig.json'));
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', tmp], { cwd: tmp, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      throw new Error(`tsc failed on the external kernel:\n${(e as { stdout?: string }).stdout ?? e}`);
    }
    const out = execFileSync(process.execPath, [join(tmp, 'dist', 'ar-kernel.js')], {
      cwd: tmp,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = JSON.parse(
      out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop()!,
    ) as {
      progress: number[];
      traceShape: number[];
      meanSq: number[];
      resumedIdentical: boolean;
      aborted: boolean;
    };
    expect(r.progress).toEqual([10, 20]);
    expect(r.traceShape).toEqual([20, 2]);
    // E‖x‖² = 2 under the invariant N(0, I₂); started at N(0, I) so every step is in equilibrium.
    for (const v of r.meanSq) expect(Math.abs(v - 2)).toBeLessThan(0.25);
    expect(r.resumedIdentical).toBe(true);
    expect(r.aborted).toBe(true);
  }, 120_000);
});
