import * as tf from '@tensorflow/tfjs-core';
import { GENERATED_FROM_TFJS_CORE } from './_generated/tf-registrations-version.js';

/**
 * The `@tensorflow/tfjs-core` version whose gradient and chained-op registrations `@ebm/core` bundles
 * (written at build time by `scripts/gen-tf-registrations.mjs`).
 */
export function generatedTfjsCoreVersion(): string {
  return GENERATED_FROM_TFJS_CORE;
}

/**
 * Warns once when the tfjs-core loaded at run time differs from the one the registrations were generated from
 * (gradients of a newer tfjs-core may be missing or different). Returns the message, or `undefined` if equal.
 */
export function checkTfjsCoreVersion(
  runtime: string = tf.version_core,
  warn: (msg: string) => void = console.warn,
): string | undefined {
  if (runtime === GENERATED_FROM_TFJS_CORE) return undefined;
  const msg =
    `[@ebm/core] tfjs-core ${runtime} is loaded, but @ebm/core's gradient registrations were generated from ` +
    `${GENERATED_FROM_TFJS_CORE}. Install @tensorflow/tfjs-core@${GENERATED_FROM_TFJS_CORE} (or an @ebm/core ` +
    'built for your version) if gradients fail or differ.';
  warn(msg);
  return msg;
}
