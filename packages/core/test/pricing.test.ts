import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { costOfCall, createPriceBook, estimateNanos, loadBundledPrices, selectTier, type PriceEntry } from "../src/index.ts";

const tok = (input: number, output: number, cacheRead = 0, cacheWrite = 0) => ({ input, output, cacheRead, cacheWrite });

// Rows as OpenClaw 2026.9.6's catalog publishes them (see scripts/update-prices.ts).
const GPT6_SOL: PriceEntry = { provider: "openai", model: "gpt-6-sol", input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5, tiers: [{ minPromptTokens: 272001, input: 4, output: 15, cacheRead: 0.4, cacheWrite: 5 }] };
const LUNA: PriceEntry = { provider: "opencode-go", model: "gpt-5.6-luna", input: 0.2, output: 1.2, cacheRead: 0.02, cacheWrite: 0.25, tiers: [{ minPromptTokens: 272000, input: 0.4, output: 1.8, cacheRead: 0.04, cacheWrite: 0.5 }] };
const KIMI: PriceEntry = { provider: "ollama-cloud", model: "kimi-k3", input: 3, output: 15, cacheRead: 0.3 };
const NEMOTRON: PriceEntry = { provider: "nvidia", model: "nvidia/nemotron-3-super-120b-a12b", input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

describe("pricing", () => {
  it("picks the tier by prompt = input + cacheRead + cacheWrite, inclusive of the threshold", () => {
    // Figures computed with OpenClaw's own cost function for these rows.
    assert.equal(estimateNanos(selectTier(GPT6_SOL, tok(100_000, 1000, 172_001)).price, tok(100_000, 1000, 172_001)), 483_800_400);
    assert.equal(estimateNanos(selectTier(LUNA, tok(271_999, 1000)).price, tok(271_999, 1000)), 55_599_800);
    assert.equal(estimateNanos(selectTier(LUNA, tok(272_000, 1000)).price, tok(272_000, 1000)), 110_600_000);
    assert.equal(selectTier(GPT6_SOL, tok(272_000, 5)).tier, null);
    assert.equal(selectTier(GPT6_SOL, tok(272_001, 5)).tier, 0);
  });

  it("prices a missing cache price at 0, as OpenClaw does", () => {
    assert.equal(estimateNanos(KIMI, tok(0, 0, 0, 1_000_000)), 0);
    assert.equal(estimateNanos(KIMI, tok(0, 0, 1_000_000, 0)), 300_000_000);
  });

  it("uses recorded cost first, then config, then the table; never a silent $0", () => {
    const book = createPriceBook([{ provider: "openai", model: "gpt-6-sol", input: 1, output: 1 }], [GPT6_SOL, NEMOTRON]);
    assert.deepEqual(costOfCall({ provider: "openai", model: "gpt-6-sol", tokens: tok(10, 10), recordedCostUsd: 0.5 }, book), { source: "recorded", nanos: 500_000_000, priceRef: null });
    const fromConfig = costOfCall({ provider: "openai", model: "gpt-6-sol", tokens: tok(1_000_000, 0), recordedCostUsd: null }, book);
    assert.deepEqual(fromConfig, { source: "estimated", nanos: 1_000_000_000, priceRef: "config:openai/gpt-6-sol" });
    // A recorded 0 for a call that used tokens is "not priced" (OpenClaw wrote 0 for unknown prices).
    const zero = costOfCall({ provider: "acme", model: "x", tokens: tok(5, 5), recordedCostUsd: 0 }, book);
    assert.deepEqual(zero, { source: "unknown", nanos: 0, priceRef: null });
    // All-zero catalog rows are OpenClaw's "unknown price" placeholders.
    assert.equal(costOfCall({ provider: "nvidia", model: "nvidia/nemotron-3-super-120b-a12b", tokens: tok(5, 5), recordedCostUsd: null }, book).source, "unknown");
  });

  it("honours an operator's explicit zero price (a free local model)", () => {
    const book = createPriceBook([{ provider: "local", model: "llama", input: 0, output: 0 }], []);
    assert.deepEqual(costOfCall({ provider: "local", model: "llama", tokens: tok(100, 100), recordedCostUsd: null }, book), { source: "estimated", nanos: 0, priceRef: "config:local/llama" });
  });

  it("matches provider-prefixed ids and unambiguous bare ids, never guesses between providers", () => {
    const a: PriceEntry = { provider: "openai", model: "gpt-x", input: 1, output: 2 };
    const b: PriceEntry = { provider: "github-copilot", model: "gpt-x", input: 5, output: 5 };
    const book = createPriceBook([], [a, KIMI]);
    assert.equal(book.lookup("openrouter", "openai/gpt-x")?.entry, a);
    assert.equal(book.lookup("some-proxy", "kimi-k3")?.entry, KIMI);
    assert.equal(createPriceBook([], [a, b]).lookup("some-proxy", "gpt-x"), undefined);
  });

  it("ships the bundled table generated from OpenClaw's catalog", () => {
    const { prices, source } = loadBundledPrices();
    assert.match(source, /openclaw@2026\.9\.6/);
    assert.ok(prices.length > 50);
    assert.ok(prices.some((p) => p.provider === "anthropic" && p.model === "claude-opus-5"));
  });
});
