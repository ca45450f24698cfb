/**
 * Large-prompt audit (`llm_input`, once per run; needs hooks.allowConversationAccess): when system prompt +
 * prompt + history exceed `audit.largePromptChars`, a LARGE PROMPT warning is logged and a record with
 * bounded previews (≤ 2,000 characters each, secrets masked) is appended to
 * `<stateDir>/clawtower/large-prompts.jsonl` (0600), rotated by size. Writes are asynchronous and
 * serialized; a failed write is logged, never thrown into the agent run.
 */
import fs from "node:fs/promises";
import type { Redactor } from "../privacy/redact.ts";

export const PREVIEW_CHARS = 2000;

export type PromptSizes = { system: number; prompt: number; history: number; historyMessages: number; total: number };

type LlmInput = { runId?: unknown; sessionId?: unknown; provider?: unknown; model?: unknown; systemPrompt?: unknown; prompt?: unknown; historyMessages?: unknown };

export function promptSizes(e: LlmInput): PromptSizes {
  const system = typeof e.systemPrompt === "string" ? e.systemPrompt.length : 0;
  const prompt = typeof e.prompt === "string" ? e.prompt.length : 0;
  const messages = Array.isArray(e.historyMessages) ? e.historyMessages : [];
  let history = 0;
  for (const m of messages) {
    try {
      history += JSON.stringify(m)?.length ?? 0;
    } catch {
      // unserialisable history entries are not counted
    }
  }
  return { system, prompt, history, historyMessages: messages.length, total: system + prompt + history };
}

export type AuditOptions = { thresholdChars: number; file: string; maxBytes: number; files: number; redactor: Redactor; warn(m: string): void };

export class PromptAudit {
  readonly #o: AuditOptions;
  #chain: Promise<void> = Promise.resolve();
  dumps = 0;

  constructor(o: AuditOptions) {
    this.#o = o;
  }

  check(e: LlmInput, ctx: { agentId?: unknown; sessionKey?: unknown }, at: number): PromptSizes | null {
    if (this.#o.thresholdChars <= 0) return null;
    const sizes = promptSizes(e);
    if (sizes.total <= this.#o.thresholdChars) return null;
    const id = `run ${String(e.runId ?? "?")} session ${String(ctx.sessionKey ?? e.sessionId ?? "?")}`;
    this.#o.warn(
      `clawtower: LARGE PROMPT (${sizes.total} chars > audit.largePromptChars ${this.#o.thresholdChars}) ${id} model ${String(e.provider ?? "?")}/${String(e.model ?? "?")}: ` +
        `system ${sizes.system}, prompt ${sizes.prompt}, history ${sizes.history} in ${sizes.historyMessages} messages`,
    );
    const preview = (s: unknown) => (typeof s === "string" ? this.#o.redactor.text(s.slice(0, PREVIEW_CHARS)) : null);
    const history = Array.isArray(e.historyMessages) ? e.historyMessages.slice(-3) : [];
    const record = {
      at: new Date(at).toISOString(),
      agentId: ctx.agentId ?? null,
      sessionKey: ctx.sessionKey ?? null,
      sessionId: e.sessionId ?? null,
      runId: e.runId ?? null,
      provider: e.provider ?? null,
      model: e.model ?? null,
      sizes,
      previews: {
        system: preview(e.systemPrompt),
        prompt: preview(e.prompt),
        lastHistory: history.map((m) => {
          try {
            return preview(JSON.stringify(m));
          } catch {
            return null;
          }
        }),
      },
    };
    this.#append(`${JSON.stringify(record)}\n`);
    return sizes;
  }

  #append(line: string): void {
    this.#chain = this.#chain
      .then(async () => {
        await this.#rotateIfNeeded(Buffer.byteLength(line));
        const fh = await fs.open(this.#o.file, "a", 0o600);
        try {
          await fh.appendFile(line);
        } finally {
          await fh.close();
        }
        this.dumps++;
      })
      .catch((err: unknown) => this.#o.warn(`clawtower: cannot write ${this.#o.file}: ${(err as Error).message}`));
  }

  async #rotateIfNeeded(incoming: number): Promise<void> {
    let size = 0;
    try {
      size = (await fs.stat(this.#o.file)).size;
    } catch {
      return;
    }
    if (size + incoming <= this.#o.maxBytes) return;
    const f = this.#o.file;
    await fs.rm(`${f}.${this.#o.files}`, { force: true });
    for (let i = this.#o.files - 1; i >= 1; i--) await fs.rename(`${f}.${i}`, `${f}.${i + 1}`).catch(() => {});
    await fs.rename(f, `${f}.1`);
  }

  /** Resolves once every queued write finished. */
  flush(): Promise<void> {
    return this.#chain;
  }
}
