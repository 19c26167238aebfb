// Side-effect module generated at build time (scripts/gen-tf-registrations.mjs).
export {};
