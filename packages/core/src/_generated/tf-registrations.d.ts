// Side-effect module generated at build time (scripts/gen-tf-registrations.mjs); not tracked by git.
export {};
