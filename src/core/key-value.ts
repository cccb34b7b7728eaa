/**
 * The storage a platform adapter may use: short strings under keys of its own, each with a
 * time to live, a set-if-absent that doubles as a lease, and short append-only lists. The
 * bridge hands every adapter one of these scoped to its own key prefix (`<prefix>:<platform>:`),
 * so an adapter never sees a Redis client, the bridge's keys or another adapter's.
 * `src/app` implements it on the bridge's Redis; tests may pass another implementation.
 */
export interface KeyValueEntry {
  readonly key: string;
  readonly value: string;
  /** The entry is forgotten this long after it was written, ms. */
  readonly ttlMs: number;
}

export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  /** The values of several keys, in order (undefined where absent). */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  /** Writes every entry at once: all are written or none. */
  set(entries: readonly KeyValueEntry[]): Promise<void>;
  /** Writes the entry unless its key holds a value; true when it wrote (a lease, a first cursor). */
  setIfAbsent(entry: KeyValueEntry): Promise<boolean>;
  /** Sets a new time to live on a key, if it exists. */
  touch(key: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Appends to a list and keeps only its last `keepLast` items, at once. */
  append(key: string, value: string, keepLast: number): Promise<void>;
  /** Every item of a list, oldest first (empty when absent). */
  list(key: string): Promise<string[]>;
  /**
   * Replaces the item at `index` of a list if it still holds `expected`, at once; false when
   * it does not (another writer changed it, or a trim moved the list), so the caller re-reads.
   */
  replaceIfSame(key: string, index: number, expected: string, value: string): Promise<boolean>;
}
