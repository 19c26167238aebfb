/**
 * # Headless Chromium for browser tests
 *
 * One launch of Debian's `/usr/bin/chromium` through `playwright-core` for the browser tests of `@ebm/*` (and
 * of backend plugins that want the same): a throw-away profile directory, headless, no sandbox, no GPU, no
 * background networking. `playwright-core` is the caller's (dev) dependency, loaded only when a browser is
 * launched; Node only.
 * @module
 */
import { EbmError } from '../errors.js';

/** Where the tests look for Chromium: `EBM_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.EBM_CHROMIUM ?? '/usr/bin/chromium';
}

/** Whether {@link chromiumPath} exists (Node only; `false` elsewhere). */
export async function chromiumAvailable(): Promise<boolean> {
  try {
    const fs = await import('node:fs');
    return fs.existsSync(chromiumPath());
  } catch {
    return false;
  }
}

/** Options of {@link launchChromium}. */
export interface LaunchChromiumOptions {
  /** Viewport of new pages (playwright's default when absent). */
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Prefix of the temporary profile directory (default `ebm-chromium-`). */
  readonly profilePrefix?: string;
}

/** A launched Chromium: its playwright `BrowserContext` and a `close()` that also removes the profile. */
export interface LaunchedChromium<Context> {
  readonly context: Context;
  close(): Promise<void>;
}

/** The flags every test launch uses (headless, no sandbox, no GPU, nothing fetched in the background). */
export const CHROMIUM_TEST_ARGS: readonly string[] = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]);

/**
 * Launches headless Chromium ({@link chromiumPath}) in a fresh profile with {@link CHROMIUM_TEST_ARGS}. Pass
 * playwright's `BrowserContext` type for a typed context.
 *
 * @example
 * ```ts
 * import type { BrowserContext } from 'playwright-core';
 * const browser = await launchChromium<BrowserContext>();
 * try { const page = await browser.context.newPage(); … } finally { await browser.close(); }
 * ```
 * @throws EbmError `BACKEND_UNAVAILABLE` when Chromium or `playwright-core` is missing.
 */
export async function launchChromium<Context = unknown>(
  options: LaunchChromiumOptions = {},
): Promise<LaunchedChromium<Context>> {
  const executablePath = chromiumPath();
  if (!(await chromiumAvailable())) {
    throw new EbmError('BACKEND_UNAVAILABLE', `No Chromium at ${executablePath}.`, {
      argument: 'EBM_CHROMIUM',
      value: executablePath,
      fix: 'apt-get install chromium, or set EBM_CHROMIUM to a Chromium binary.',
    });
  }
  const specifier = 'playwright-core';
  let pw: {
    chromium: {
      launchPersistentContext(dir: string, o: Record<string, unknown>): Promise<{ close(): Promise<void> }>;
    };
  };
  try {
    pw = await import(/* @vite-ignore */ specifier);
  } catch (cause) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'launchChromium needs playwright-core.', {
      argument: 'playwright-core',
      fix: 'add playwright-core to your devDependencies.',
      cause,
    });
  }
  const [{ mkdtempSync, rmSync }, { tmpdir }, { join }] = await Promise.all([
    import('node:fs'),
    import('node:os'),
    import('node:path'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), options.profilePrefix ?? 'ebm-chromium-'));
  try {
    const context = await pw.chromium.launchPersistentContext(dir, {
      executablePath,
      headless: true,
      ...(options.viewport !== undefined ? { viewport: options.viewport } : {}),
      args: [...CHROMIUM_TEST_ARGS],
    });
    return {
      context: context as Context,
      async close() {
        try {
          await context.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The part of a playwright `Page` that {@link evaluateInChromium} uses. */
interface ScriptPage {
  on(event: 'pageerror', listener: (error: Error) => void): unknown;
  setContent(html: string): Promise<unknown>;
  addScriptTag(options: { content: string }): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
}

/** What {@link evaluateInChromium} resolves to. */
export interface ChromiumEvaluation<T> {
  /** The value of the expression (awaited when it is a promise), as playwright serialises it. */
  readonly result: T;
  /** The page's uncaught errors (`pageerror` events), in order. */
  readonly pageErrors: string[];
}

/**
 * Runs `script` (e.g. an esbuild IIFE bundle of a test fixture) in a blank page of a fresh headless Chromium
 * ({@link launchChromium}), evaluates `expression` there (e.g. `'runEbm()'`) and closes the browser.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild';
 * const out = await build({ entryPoints: ['fixtures/entry.ts'], bundle: true, format: 'iife', write: false, … });
 * const { result, pageErrors } = await evaluateInChromium(out.outputFiles[0]!.text, 'runEbm()');
 * ```
 * @throws EbmError `BACKEND_UNAVAILABLE` when Chromium or `playwright-core` is missing.
 */
export async function evaluateInChromium<T = unknown>(
  script: string,
  expression: string,
  options: LaunchChromiumOptions = {},
): Promise<ChromiumEvaluation<T>> {
  const browser = await launchChromium<{ newPage(): Promise<ScriptPage> }>(options);
  try {
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ content: script });
    const result = (await page.evaluate(expression)) as T;
    return { result, pageErrors };
  } finally {
    await browser.close();
  }
}
