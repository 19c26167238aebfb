import { execFileSync } from 'node:child_process';

/**
 * Whether the Redis tests run: they start their own `redis-server` (never a mock). Without the binary they
 * are skipped with a message, unless `EBM_TEST_REDIS=1` (CI), where its absence is a failure.
 */
export function redisAvailable(): boolean {
  const bin = process.env.EBM_REDIS_SERVER ?? 'redis-server';
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.EBM_TEST_REDIS === '1') {
      throw new Error(
        `EBM_TEST_REDIS=1 but ${bin} cannot run: install redis-server (apt-get install redis-server).`,
      );
    }
    console.warn(
      `[@ebm/distributed] ${bin} not found: Redis tests skipped (set EBM_TEST_REDIS=1 to require them).`,
    );
    return false;
  }
}
