/**
 * Writes items as they arrive, each in the open transaction, committing once a transaction holds `maxRows`
 * rows (and when the input ends).
 *
 * Why not batches of items written at once: a big import's rows land all over the tables' B-trees (parts
 * come in size order, not key order), so every commit writes most index pages again. With commits every
 * 8,000 rows a 680 MiB home made 91,000 page writes for a 40 MB store; writing each item at once and
 * committing every 32,000 rows keeps that down without holding items in this thread's heap.
 */
import type { Kysely } from "kysely";
import type { Db } from "./refs.ts";
import type { Database } from "./schema.ts";

type Entry<T> = { item: T; resolve: () => void; reject: (e: unknown) => void };

export class WriteStream<T> {
  readonly #queue: Entry<T>[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #failure: unknown = null;
  /** The item taken from the queue and not yet answered: a failure anywhere (before(), BEGIN, a write) answers it. */
  #current: Entry<T> | null = null;
  readonly #done: Promise<void>;

  /**
   * @param write writes one item inside `trx` and returns how many rows it wrote
   * @param before awaited before the first transaction starts
   */
  constructor(db: Kysely<Database>, maxRows: number, write: (trx: Db, item: T) => Promise<number>, before: () => Promise<void> = async () => {}) {
    this.#done = this.#run(db, maxRows, write, before).catch((e: unknown) => {
      this.#failure = e;
      this.#current?.reject(e);
      this.#current = null;
      for (const entry of this.#queue.splice(0)) entry.reject(e);
      throw e;
    });
    this.#done.catch(() => {}); // observed by end() and by every push()
  }

  /** Resolves once `item` is written (not yet committed); rejects if writing failed. */
  push(item: T): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#ended) return Promise.reject(new Error("WriteStream: push after end"));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#wakeUp();
    });
  }

  /** No more items: commits what is written and resolves when done (rejects with the write's error). */
  end(): Promise<void> {
    this.#ended = true;
    this.#wakeUp();
    return this.#done;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #next(): Promise<Entry<T> | null> {
    while (this.#queue.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    this.#current = this.#queue.shift()!;
    return this.#current;
  }

  async #run(db: Kysely<Database>, maxRows: number, write: (trx: Db, item: T) => Promise<number>, before: () => Promise<void>): Promise<void> {
    // No transaction is held open while nothing has arrived yet.
    let entry = await this.#next();
    if (!entry) return;
    await before();
    while (entry) {
      const start: Entry<T> = entry;
      await db.transaction().execute(async (trx) => {
        let rows = 0;
        for (let e: Entry<T> | null = start; e; e = rows >= maxRows ? null : await this.#next()) {
          rows += await write(trx, e.item);
          this.#current = null;
          e.resolve();
        }
      });
      entry = await this.#next();
    }
  }
}
