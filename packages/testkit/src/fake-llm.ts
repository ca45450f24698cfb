/**
 * A deterministic OpenAI-compatible LLM server for tests against the real OpenClaw host.
 *
 * OpenClaw talks to it through `models.providers.<id>` with `api: "openai-completions"` and a loopback
 * `baseUrl`. Answers are numbered ("Hello from fake model #N") and usage is derived from the request, so
 * a test can predict every token OpenClaw records.
 *
 * Directives, read from any user message (OpenClaw appends an internal-context user message after the
 * prompt, so "the last user message" is not the prompt):
 *   [[tool:NAME {"json":"args"}]]  answer with one tool call to NAME, unless the conversation already
 *                                  holds a tool result for it (then answer with text). Several tool
 *                                  directives in one message are called one after the other: the k-th
 *                                  call is made once k-1 tool results follow that message. Requests
 *                                  that offer no tools (summarizers) always get text.
 *   [[error:STATUS]]               answer with that HTTP status (once per distinct prompt).
 *   [[fail:STATUS]]                answer with that HTTP status every time (retries fail too).
 *   [[billed:USD]]                 add `usage.cost: USD` (a provider-billed total) to every answer while
 *                                  the directive is in the conversation.
 *
 * Usage per successful call (see `usageFor`): prompt_tokens = ceil(len(JSON(messages))/4);
 * cached_tokens = `cachedTokens` (default 1000) when the prompt is larger, else 0; with `cacheWriteTokens`
 * set, `prompt_tokens_details.cache_write_tokens` = that many when the uncached rest is larger, else 0;
 * completion_tokens = ceil(len(text)/4) for text, 10 + len(JSON(args)) for a tool call.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeLlmOptions = {
  port?: number;
  host?: string;
  /** Cached prompt tokens reported per call once the prompt exceeds this many tokens. */
  cachedTokens?: number;
  /** Cache-write prompt tokens reported per call (`prompt_tokens_details.cache_write_tokens`); default 0 = not reported. */
  cacheWriteTokens?: number;
  /** Delay before answering, in milliseconds. */
  latencyMs?: number;
};

export type FakeLlmRequestLog = {
  n: number;
  model: string;
  stream: boolean;
  toolNames: string[];
  usage: FakeUsage | null;
  status: number;
  reply: string | { tool: string; args: unknown };
  /** Number of request messages, and the first and last user messages (≤ 2000 chars each), to attribute a call to a turn. */
  messageCount: number;
  firstUserText: string;
  lastUserText: string;
  /** The text of the last tool-result message (≤ 2000 chars), "" when there is none: what a tool answered. */
  lastToolText: string;
  /** Wall-clock time the request arrived (ms since epoch). */
  at: number;
};

export type FakeUsage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
  /** Provider-billed total in USD (only with a `[[billed:USD]]` directive). */
  cost?: number;
};

export type FakeLlmServer = {
  url: string;
  baseUrl: string;
  port: number;
  requests: FakeLlmRequestLog[];
  close(): Promise<void>;
};

type ChatMessage = { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string };

const TOOL_DIRECTIVE = /\[\[tool:([A-Za-z0-9_.-]+)\s*(\{.*?\})?\]\]/s;
const TOOL_DIRECTIVES = /\[\[tool:([A-Za-z0-9_.-]+)\s*(\{.*?\})?\]\]/gs;
const ERROR_DIRECTIVE = /\[\[error:(\d{3})\]\]/;
const FAIL_DIRECTIVE = /\[\[fail:(\d{3})\]\]/;
const BILLED_DIRECTIVE = /\[\[billed:(\d+(?:\.\d+)?)\]\]/;

function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === "object" && "text" in part ? String((part as { text: unknown }).text) : ""))
      .join("\n");
  }
  return "";
}

/** Deterministic token estimate: one token per 4 characters of the serialized request messages. */
function promptTokensOf(messages: ChatMessage[]): number {
  return Math.max(1, Math.ceil(JSON.stringify(messages).length / 4));
}

/** The usage reported for a successful answer (exported so tests can predict it). */
export function usageFor(
  messages: ChatMessage[],
  reply: string | { tool: string; args: unknown },
  options: { cachedTokens: number; cacheWriteTokens: number },
): FakeUsage {
  const promptTokens = promptTokensOf(messages);
  const cached = promptTokens > options.cachedTokens ? options.cachedTokens : 0;
  const write = options.cacheWriteTokens > 0 && promptTokens - cached > options.cacheWriteTokens ? options.cacheWriteTokens : 0;
  const completionTokens =
    typeof reply === "string" ? Math.max(1, Math.ceil(reply.length / 4)) : 10 + JSON.stringify(reply.args).length;
  const usage: FakeUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: options.cacheWriteTokens > 0 ? { cached_tokens: cached, cache_write_tokens: write } : { cached_tokens: cached },
  };
  const billed = messages
    .filter((m) => m.role === "user")
    .map((m) => BILLED_DIRECTIVE.exec(messageText(m)))
    .find((m) => m !== null);
  if (billed) usage.cost = Number(billed[1]);
  return usage;
}

export function planReply(
  messages: ChatMessage[],
  n: number,
  erroredPrompts: Set<string>,
  toolsOffered = true,
): { status: number; reply: string | { tool: string; args: unknown } } {
  const userTexts = messages.filter((m) => m.role === "user").map(messageText);
  const failMatch = userTexts.map((t) => FAIL_DIRECTIVE.exec(t)).find((m) => m !== null);
  if (failMatch) return { status: Number(failMatch[1]), reply: `error ${failMatch[1]}` };
  const errorMatch = userTexts.map((t) => ERROR_DIRECTIVE.exec(t)).find((m) => m !== null);
  if (errorMatch) {
    const key = userTexts.join("\u0000");
    if (!erroredPrompts.has(key)) {
      erroredPrompts.add(key);
      return { status: Number(errorMatch[1]), reply: `error ${errorMatch[1]}` };
    }
  }
  // Answer with the tool call until a tool result follows the user message that asked for it; OpenClaw may
  // append further (internal) user messages after the result, so "the last message" says nothing.
  // A request without tools (e.g. OpenClaw's compaction summarizer quoting the conversation) gets text.
  const askedAt = toolsOffered ? messages.findLastIndex((m) => m.role === "user" && TOOL_DIRECTIVE.test(messageText(m))) : -1;
  if (askedAt >= 0) {
    const wanted = [...messageText(messages[askedAt]!).matchAll(TOOL_DIRECTIVES)];
    const answered = messages.slice(askedAt + 1).filter((m) => m.role === "tool").length;
    const next = wanted[answered];
    if (next) {
      const args = next[2] ? (JSON.parse(next[2]) as unknown) : {};
      return { status: 200, reply: { tool: next[1]!, args } };
    }
  }
  return { status: 200, reply: `Hello from fake model #${n}` };
}

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlmServer> {
  const requests: FakeLlmRequestLog[] = [];
  const erroredPrompts = new Set<string>();
  const cachedTokens = options.cachedTokens ?? 1000;
  let counter = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks).toString("utf8"));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (req.method === "GET" && path.endsWith("/models")) {
      sendJson(res, 200, { object: "list", data: [{ id: "fake-model", object: "model", owned_by: "clawtower-tests" }] });
      return;
    }
    if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
      sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
      return;
    }
    let payload: { model?: string; messages?: ChatMessage[]; stream?: boolean; tools?: { function?: { name?: string } }[] };
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      sendJson(res, 400, { error: { message: "invalid JSON body" } });
      return;
    }
    const messages = payload.messages ?? [];
    const n = ++counter;
    const model = payload.model ?? "fake-model";
    const plan = planReply(messages, n, erroredPrompts, (payload.tools ?? []).length > 0);
    const toolNames = (payload.tools ?? []).map((t) => t.function?.name ?? "?");
    const firstUser = messages.find((m) => m.role === "user");
    const lastUser = messages.findLast((m) => m.role === "user");
    const meta = {
      messageCount: messages.length,
      firstUserText: firstUser ? messageText(firstUser).slice(0, 2000) : "",
      lastUserText: lastUser ? messageText(lastUser).slice(0, 2000) : "",
      lastToolText: (() => {
        const t = messages.findLast((m) => m.role === "tool");
        return t ? messageText(t).slice(0, 2000) : "";
      })(),
      at: Date.now(),
    };
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));

    if (plan.status !== 200) {
      requests.push({ n, model, stream: Boolean(payload.stream), toolNames, usage: null, status: plan.status, reply: plan.reply, ...meta });
      sendJson(res, plan.status, { error: { message: `fake upstream error ${plan.status}`, type: "server_error" } });
      return;
    }

    const replyText = typeof plan.reply === "string" ? plan.reply : "";
    const usage = usageFor(messages, plan.reply, { cachedTokens, cacheWriteTokens: options.cacheWriteTokens ?? 0 });
    requests.push({ n, model, stream: Boolean(payload.stream), toolNames, usage, status: 200, reply: plan.reply, ...meta });

    const id = `chatcmpl-${n}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCall =
      typeof plan.reply === "string"
        ? undefined
        : { index: 0, id: `call_${n}`, type: "function", function: { name: plan.reply.tool, arguments: JSON.stringify(plan.reply.args) } };
    const finishReason = toolCall ? "tool_calls" : "stop";

    if (!payload.stream) {
      sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [
          {
            index: 0,
            message: toolCall
              ? { role: "assistant", content: null, tool_calls: [{ id: toolCall.id, type: "function", function: toolCall.function }] }
              : { role: "assistant", content: replyText },
            finish_reason: finishReason,
          },
        ],
        usage,
      });
      return;
    }

    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const base = { id, object: "chat.completion.chunk", created, model };
    send({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    if (toolCall) {
      send({ ...base, choices: [{ index: 0, delta: { tool_calls: [toolCall] }, finish_reason: null }] });
    } else {
      // Two content chunks so the client exercises stream assembly.
      const mid = Math.ceil(replyText.length / 2);
      send({ ...base, choices: [{ index: 0, delta: { content: replyText.slice(0, mid) }, finish_reason: null }] });
      send({ ...base, choices: [{ index: 0, delta: { content: replyText.slice(mid) }, finish_reason: null }] });
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] });
    send({ ...base, choices: [], usage });
    res.write("data: [DONE]\n\n");
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

// Standalone: `node packages/testkit/src/fake-llm.ts [--port N]` prints the base URL and serves until killed.
if (import.meta.main) {
  const portArg = process.argv.indexOf("--port");
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
  const srv = await startFakeLlm({ port });
  process.stdout.write(`${srv.baseUrl}\n`);
}

/**
 * What OpenClaw 2026.9.6 records for the answered requests of a fake LLM's log (input excludes cached and
 * cache-write tokens), priced at `cost` (USD per 1M tokens): the independent expectation real-host tests
 * compare Clawtower's numbers with.
 */
export function recordedUsage(requests: FakeLlmRequestLog[], cost: { input: number; output: number; cacheRead: number; cacheWrite: number }) {
  const t = { calls: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, usd: 0, toolCalls: 0 };
  for (const r of requests) {
    if (r.status !== 200 || !r.usage) continue;
    const cached = r.usage.prompt_tokens_details.cached_tokens;
    const write = r.usage.prompt_tokens_details.cache_write_tokens ?? 0;
    const input = r.usage.prompt_tokens - cached - write;
    t.calls++;
    t.input += input;
    t.output += r.usage.completion_tokens;
    t.cacheRead += cached;
    t.cacheWrite += write;
    t.usd += (input * cost.input + r.usage.completion_tokens * cost.output + cached * cost.cacheRead + write * cost.cacheWrite) / 1e6;
    if (typeof r.reply !== "string") t.toolCalls++;
  }
  return t;
}
