/**
 * A per-container cache of promises with a time to live. Concurrent lookups of one
 * key share one load, and a failed load is never kept: the next lookup tries again.
 */
export interface TtlCacheOptions {
  ttlMs: number;
  /** Milliseconds since the epoch; a test passes its own clock. */
  now: () => number;
  /**
   * Whether an `undefined` answer (a name that resolves to nothing) is kept for the TTL
   * like any other. Where the directory is asked directly, a miss is not kept: a user or
   * group created a moment ago is found at the next request.
   */
  keepUndefined: boolean;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(private readonly options: TtlCacheOptions) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.options.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.options.ttlMs) return hit.value;
    const value = load();
    this.entries.set(key, { at: now, value });
    const forget = () => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    };
    value.then((v) => {
      if (v === undefined && !this.options.keepUndefined) forget();
    }, forget);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
