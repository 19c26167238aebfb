import { readFileSync } from 'node:fs';
import { assertKnownOptions, EbmError, optionKeys } from '@ebm/core';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * # Reaching Redis: URL, authentication, TLS
 *
 * `redis://[user:password@]host:port/db` or `rediss://…` (TLS). A password or ACL user given separately (or in
 * `REDIS_PASSWORD` / `REDIS_USERNAME`) keeps secrets out of command lines and process lists. TLS takes a CA
 * file (to trust a private CA), an optional client certificate and key (mutual TLS), and verifies the server
 * certificate unless `rejectUnauthorized: false` is asked for explicitly.
 * @module
 */

/** How to reach Redis. */
export interface RedisConnectionOptions {
  /** `redis://host:6379` (default `redis://127.0.0.1:6379`), or `rediss://` for TLS. */
  readonly url?: string;
  /** ACL user name (default: from the URL, or `REDIS_USERNAME`). */
  readonly username?: string;
  /** Password (default: from the URL, or `REDIS_PASSWORD`). */
  readonly password?: string;
  /** TLS settings (implied by a `rediss://` URL). */
  readonly tls?: {
    /** PEM file of the CA that signed the server certificate. */
    readonly caFile?: string;
    /** PEM files of a client certificate and key (mutual TLS). */
    readonly certFile?: string;
    readonly keyFile?: string;
    /** Verify the server certificate (default true). */
    readonly rejectUnauthorized?: boolean;
    /** Server name for SNI and certificate checks (default: the URL's host). */
    readonly servername?: string;
  };
  /** Key prefix of every Redis key this package writes (default `ebm`). */
  readonly prefix?: string;
}

const CONNECTION_KEYS = optionKeys<RedisConnectionOptions>({
  url: true,
  username: true,
  password: true,
  tls: true,
  prefix: true,
});
const TLS_KEYS = optionKeys<NonNullable<RedisConnectionOptions['tls']>>({
  caFile: true,
  certFile: true,
  keyFile: true,
  rejectUnauthorized: true,
  servername: true,
});

/** ioredis options for {@link RedisConnectionOptions} (BullMQ needs `maxRetriesPerRequest: null`). */
export function redisOptions(options: RedisConnectionOptions = {}): { url: string; options: RedisOptions } {
  assertKnownOptions('connection', options, CONNECTION_KEYS);
  if (options.tls !== undefined) assertKnownOptions('connection.tls', options.tls, TLS_KEYS);
  const url = options.url ?? process.env.EBM_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EbmError('INVALID_PARAM', 'The Redis URL is not a valid URL.', {
      argument: 'url',
      value: url.replace(/\/\/[^@]*@/, '//***@'),
      fix: 'use redis://host:6379 or rediss://host:6380.',
    });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new EbmError('INVALID_PARAM', 'The Redis URL must start with redis:// or rediss://.', {
      argument: 'url',
      value: parsed.protocol,
      fix: 'use redis://host:6379 or rediss://host:6380 (TLS).',
    });
  }
  const o: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };
  const username = options.username ?? process.env.REDIS_USERNAME;
  const password = options.password ?? process.env.REDIS_PASSWORD;
  if (username) o.username = username;
  if (password) o.password = password;
  const t = options.tls;
  if (parsed.protocol === 'rediss:' || t !== undefined) {
    o.tls = {
      ...(t?.caFile ? { ca: readFileSync(t.caFile) } : {}),
      ...(t?.certFile ? { cert: readFileSync(t.certFile) } : {}),
      ...(t?.keyFile ? { key: readFileSync(t.keyFile) } : {}),
      rejectUnauthorized: t?.rejectUnauthorized ?? true,
      ...(t?.servername ? { servername: t.servername } : {}),
    };
  }
  return { url, options: o };
}

/** A new ioredis client for `options`. */
export function connectRedis(options: RedisConnectionOptions = {}): Redis {
  const { url, options: o } = redisOptions(options);
  // ioredis's option types carry optional fields that exactOptionalPropertyTypes rejects; the values are checked above.
  return new Redis(url, o as never);
}

/**
 * Checks that `redis` answers (and accepted the credentials) within `timeoutMs`; otherwise throws
 * `BACKEND_UNAVAILABLE` with the server's last error (e.g. `NOAUTH`, `WRONGPASS`, a TLS or DNS failure).
 */
export async function assertReachable(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  let last: Error | undefined;
  const onError = (e: Error) => {
    last = e;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(last ?? new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `Cannot use Redis at ${url.replace(/\/\/[^@]*@/, '//***@')}: ${(last ?? (e as Error)).message}`,
      {
        argument: 'connection',
        value: url.replace(/\/\/[^@]*@/, '//***@'),
        fix: 'check the URL, the password (REDIS_PASSWORD or --redis-password-file), the ACL user and the TLS files.',
        cause: e,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The key prefix (validated: it becomes part of every key). */
export function keyPrefix(options: RedisConnectionOptions = {}): string {
  const p = options.prefix ?? 'ebm';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(p)) {
    throw new EbmError('INVALID_PARAM', 'prefix must be 1–32 characters [A-Za-z0-9_-].', {
      argument: 'prefix',
      value: p,
      fix: "use e.g. 'ebm' or 'ebm-staging'.",
    });
  }
  return p;
}
