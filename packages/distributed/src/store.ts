import type { Redis } from 'ioredis';

/**
 * Redis keys of a run (all under the connection prefix): results (a hash, field = job index, written once with
 * `HSETNX` so duplicate deliveries are idempotent), checkpoints (one key per job, with a TTL), run metadata and
 * a per-job delivery counter (how often a job was picked up: retries after a crash, duplicates).
 * @module
 */

/** Checkpoints expire after a week unless the job finishes first. */
const CHECKPOINT_TTL_S = 7 * 24 * 3600;

/** Key helpers for one prefix. */
export class RunStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {}

  private k(runId: string, what: string): string {
    return `${this.prefix}:run:${runId}:${what}`;
  }

  /** Stores a result unless one exists; returns whether this call stored it. */
  async putResult(runId: string, index: number, json: string): Promise<boolean> {
    return (await this.redis.hsetnx(this.k(runId, 'results'), String(index), json)) === 1;
  }

  async hasResult(runId: string, index: number): Promise<boolean> {
    return (await this.redis.hexists(this.k(runId, 'results'), String(index))) === 1;
  }

  async resultCount(runId: string): Promise<number> {
    return this.redis.hlen(this.k(runId, 'results'));
  }

  async results(runId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.k(runId, 'results'));
  }

  async putCheckpoint(runId: string, index: number, json: string): Promise<void> {
    await this.redis.set(this.k(runId, `ckpt:${index}`), json, 'EX', CHECKPOINT_TTL_S);
  }

  /**
   * An incremental checkpoint: appends `segment` to the job's segment list and replaces its head (`json`, which
   * records how many segments it covers) in one transaction, so a crash leaves either the old or the new one.
   */
  async appendCheckpoint(
    runId: string,
    index: number,
    json: string,
    segment: string | undefined,
  ): Promise<void> {
    const head = this.k(runId, `ckpt:${index}`);
    const segs = this.k(runId, `ckpt:${index}:segments`);
    const m = this.redis.multi();
    if (segment !== undefined) m.rpush(segs, segment);
    m.set(head, json, 'EX', CHECKPOINT_TTL_S).expire(segs, CHECKPOINT_TTL_S);
    const r = await m.exec();
    const failed = r?.find(([e]) => e !== null);
    if (failed) throw failed[0];
  }

  /** The head and the first `count` segments of an incremental checkpoint. */
  async getSegments(runId: string, index: number, count: number): Promise<string[]> {
    if (count <= 0) return [];
    return this.redis.lrange(this.k(runId, `ckpt:${index}:segments`), 0, count - 1);
  }

  async getCheckpoint(runId: string, index: number): Promise<string | null> {
    return this.redis.get(this.k(runId, `ckpt:${index}`));
  }

  async deleteCheckpoint(runId: string, index: number): Promise<void> {
    await this.redis.del(this.k(runId, `ckpt:${index}`), this.k(runId, `ckpt:${index}:segments`));
  }

  /** Counts a delivery of a job; returns the count so far. */
  async countDelivery(runId: string, index: number): Promise<number> {
    return this.redis.hincrby(this.k(runId, 'deliveries'), String(index), 1);
  }

  async deliveries(runId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.k(runId, 'deliveries'));
  }

  async putMeta(runId: string, json: string): Promise<void> {
    await this.redis.set(this.k(runId, 'meta'), json);
  }

  async getMeta(runId: string): Promise<string | null> {
    return this.redis.get(this.k(runId, 'meta'));
  }

  /** Deletes every key of a run. */
  async deleteRun(runId: string): Promise<void> {
    const keys = await this.redis.keys(`${this.prefix}:run:${runId}:*`);
    if (keys.length > 0) await this.redis.del(...keys);
  }
}
