// Generated at build time (scripts/gen-tf-registrations.mjs); not tracked by git.
/** The @tensorflow/tfjs-core version whose gradient and chained-op registrations @ebm/core bundles. */
export declare const GENERATED_FROM_TFJS_CORE: string;
