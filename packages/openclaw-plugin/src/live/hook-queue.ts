/**
 * Where hook handlers put what they saw: an array they push to and return. Everything else (parsing,
 * SQLite, HTTP, files) happens when the service drains the queue on a timer, off the agent's path.
 * The queue is bounded: when nothing drains it (no Gateway service in `agent --local` runs, whose
 * transcripts the next cycle ships anyway) the oldest items are dropped, and counted.
 */
export type QueueItem =
  | { k: "transcript"; t: number; u: unknown }
  | { k: "model_call_ended"; t: number; e: unknown; ctx: unknown }
  | { k: "llm_input"; t: number; e: unknown; ctx: unknown }
  | { k: "llm_output"; t: number; e: unknown; ctx: unknown }
  | { k: "after_tool_call"; t: number; e: unknown; ctx: unknown }
  | { k: "session_start" | "session_end"; t: number; e: unknown; ctx: unknown }
  | { k: "message_received" | "message_sending"; t: number; e: unknown; ctx: unknown };

export class HookQueue {
  #items: QueueItem[] = [];
  #dropped = 0;
  /** `llm_input` items hold whole prompt histories: at most this many wait at once. */
  #pendingPrompts = 0;
  readonly capacity: number;
  readonly promptCapacity: number;

  constructor(capacity = 20_000, promptCapacity = 16) {
    this.capacity = capacity;
    this.promptCapacity = promptCapacity;
  }

  push(item: QueueItem): void {
    if (item.k === "llm_input") {
      if (this.#pendingPrompts >= this.promptCapacity) {
        this.#dropped++;
        return;
      }
      this.#pendingPrompts++;
    }
    if (this.#items.length >= this.capacity) {
      const old = this.#items.shift()!;
      if (old.k === "llm_input") this.#pendingPrompts--;
      this.#dropped++;
    }
    this.#items.push(item);
  }

  /** Everything queued so far, oldest first; the queue is empty afterwards. */
  take(): QueueItem[] {
    const items = this.#items;
    this.#items = [];
    this.#pendingPrompts = 0;
    return items;
  }

  get size(): number {
    return this.#items.length;
  }

  get dropped(): number {
    return this.#dropped;
  }
}
