import assert from "node:assert/strict";
import { test } from "node:test";
import { planReply, startFakeLlm, usageFor } from "../src/fake-llm.ts";

const user = (content: string) => ({ role: "user", content });
const tool = () => ({ role: "tool", content: "ok", tool_call_id: "x" });

test("tool directives in one message are called in order, then text", () => {
  const ask = user('[[tool:read {"path":"a"}]] [[tool:read {"path":"b"}]] go');
  const none = new Set<string>();
  assert.deepEqual(planReply([ask], 1, none).reply, { tool: "read", args: { path: "a" } });
  assert.deepEqual(planReply([ask, { role: "assistant" }, tool()], 2, none).reply, { tool: "read", args: { path: "b" } });
  assert.equal(planReply([ask, { role: "assistant" }, tool(), { role: "assistant" }, tool()], 3, none).reply, "Hello from fake model #3");
});

test("requests without tools get text even when a directive is quoted", () => {
  assert.equal(planReply([user('[[tool:read {"path":"a"}]]')], 4, new Set(), false).reply, "Hello from fake model #4");
});

test("[[error:N]] fails once per prompt, [[fail:N]] always", () => {
  const seen = new Set<string>();
  assert.equal(planReply([user("[[error:500]] x")], 1, seen).status, 500);
  assert.equal(planReply([user("[[error:500]] x")], 2, seen).status, 200);
  assert.equal(planReply([user("[[fail:503]] x")], 3, seen).status, 503);
  assert.equal(planReply([user("[[fail:503]] x")], 4, seen).status, 503);
});

test("usage: cached, cache-write and provider-billed cost", () => {
  const messages = [user("x".repeat(8000) + " [[billed:0.5]]")];
  const u = usageFor(messages, "hello", { cachedTokens: 1000, cacheWriteTokens: 500 });
  assert.equal(u.prompt_tokens_details.cached_tokens, 1000);
  assert.equal(u.prompt_tokens_details.cache_write_tokens, 500);
  assert.equal(u.completion_tokens, 2);
  assert.equal(u.cost, 0.5);
  const small = usageFor([user("hi")], "hello", { cachedTokens: 1000, cacheWriteTokens: 0 });
  assert.deepEqual(small.prompt_tokens_details, { cached_tokens: 0 });
  assert.equal(small.cost, undefined);
});

test("server logs usage and attribution fields", async () => {
  const llm = await startFakeLlm({ cacheWriteTokens: 10, cachedTokens: 5 });
  try {
    const res = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fake-model", messages: [user("first " + "y".repeat(200)), { role: "assistant", content: "a" }, user("last")] }),
    });
    const body = (await res.json()) as { usage: { prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number } } };
    assert.equal(body.usage.prompt_tokens_details.cached_tokens, 5);
    assert.equal(body.usage.prompt_tokens_details.cache_write_tokens, 10);
    const [r] = llm.requests;
    assert.equal(r?.messageCount, 3);
    assert.match(r?.firstUserText ?? "", /^first /);
    assert.equal(r?.lastUserText, "last");
  } finally {
    await llm.close();
  }
});
