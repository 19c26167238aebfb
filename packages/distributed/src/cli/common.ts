import { readFileSync } from 'node:fs';
import type { RedisConnectionOptions } from '../connection.js';

/** Connection flags shared by `ebm-worker` and `ebm-submit`. */
export const CONNECTION_FLAGS = {
  'redis-url': { type: 'string' },
  'redis-username': { type: 'string' },
  'redis-password-file': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-insecure': { type: 'boolean' },
  prefix: { type: 'string' },
  queue: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CONNECTION_HELP = `Connection:
  --redis-url URL            redis://host:6379 or rediss://host:6380 (TLS); default $EBM_REDIS_URL or
                             redis://127.0.0.1:6379
  --redis-username NAME      ACL user (default $REDIS_USERNAME)
  --redis-password-file F    read the password from a file (default $REDIS_PASSWORD; never on the command line)
  --tls-ca F, --tls-cert F, --tls-key F   PEM files: CA to trust, client certificate and key (mutual TLS)
  --tls-insecure             do not verify the server certificate (testing only)
  --prefix P                 Redis key prefix (default ebm)
  --queue Q                  queue name (default ebm-jobs)`;

type Values = { [k: string]: string | boolean | undefined };

/** Connection options from parsed flags. */
export function connectionFrom(v: Values): RedisConnectionOptions {
  const tls =
    v['tls-ca'] || v['tls-cert'] || v['tls-key'] || v['tls-insecure']
      ? {
          ...(v['tls-ca'] ? { caFile: String(v['tls-ca']) } : {}),
          ...(v['tls-cert'] ? { certFile: String(v['tls-cert']) } : {}),
          ...(v['tls-key'] ? { keyFile: String(v['tls-key']) } : {}),
          rejectUnauthorized: !v['tls-insecure'],
        }
      : undefined;
  const password = v['redis-password-file']
    ? readFileSync(String(v['redis-password-file']), 'utf8').trim()
    : undefined;
  return {
    ...(v['redis-url'] ? { url: String(v['redis-url']) } : {}),
    ...(v['redis-username'] ? { username: String(v['redis-username']) } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    ...(v.prefix ? { prefix: String(v.prefix) } : {}),
  };
}

/** Prints an error without a stack for expected failures and exits. */
export function fail(e: unknown): never {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
