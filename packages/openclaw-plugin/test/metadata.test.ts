/**
 * The metadata skeleton made from the JSON text (metadataRaw) must be the one metadataOf makes from the parsed
 * event: checked on every event of the checked-in stores (real OpenClaw and the fixture builder's), on
 * generated events with every shape metadataOf looks at, and in both text encodings.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { metadataOf, metadataRaw } from "../src/privacy/metadata.ts";
import { createEventTransform } from "../src/privacy/transform.ts";
import { createRedactor } from "../src/privacy/redact.ts";
import { int, pick, rand, transcriptText } from "./redaction-corpus.ts";

const latin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
const fromLatin1 = (text: string) => Buffer.from(text, "latin1").toString("utf8");

/** Every event of the stores real OpenClaw wrote (testkit/fixtures): JSONL lines and SQLite rows, json and zstd. */
function fixtureEvents(): string[] {
  const root = path.resolve(import.meta.dirname, "../../testkit/fixtures");
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith(".sqlite")) {
      const db = new DatabaseSync(path.join(e.parentPath, e.name), { readOnly: true });
      for (const row of db.prepare("SELECT event_json, event_zstd FROM transcript_events").all()) {
        out.push(row["event_json"] != null ? String(row["event_json"]) : zlib.zstdDecompressSync(row["event_zstd"] as Uint8Array).toString("utf8"));
      }
      db.close();
      continue;
    }
    if (!e.isFile() || !/\.jsonl(\.|$)/.test(e.name)) continue;
    for (const line of fs.readFileSync(path.join(e.parentPath, e.name), "utf8").split("\n")) {
      try {
        const v: unknown = JSON.parse(line);
        if (v && typeof v === "object" && !Array.isArray(v)) out.push(line);
      } catch {
        // bad lines of the fixtures: not events
      }
    }
  }
  return out;
}

const scalar = () => pick<unknown>(["", "x", "sk-live-abcdefghijklmnop1234", "é → 日本 😀", 'q"uo\\te\n', 0, -1.5, 1e21, true, false, null]);
const maybe = <T>(v: () => T): T | undefined => (rand() < 0.6 ? v() : undefined);
function block(): unknown {
  switch (int(0, 5)) {
    case 0: return { type: "text", text: transcriptText(), ...(rand() < 0.2 ? { id: "t1" } : {}) };
    case 1: return { type: "toolCall", id: `call_${int(0, 9)}`, name: pick(["exec", "tool_call", "read"]), arguments: pick<unknown>([{ id: pick(["sessions_spawn", 3, null]), name: "x", tool: { nested: 1 }, args: { task: transcriptText() } }, { path: "/etc/passwd" }, "not an object", [1, 2]]) };
    case 2: return { type: "thinking", thinking: transcriptText(), thinkingSignature: "sig" };
    case 3: return pick<unknown>(["plain string block", 5, null, ["nested"]]);
    case 4: return { type: "image", data: "AAAA", mimeType: "image/png" };
    default: return { type: "toolCall", name: "tool_call", arguments: { tool: "web_search", id: "abc" }, id: "c" };
  }
}
function event(): Record<string, unknown> {
  const message = {
    role: maybe(() => pick(["user", "assistant", "toolResult"])),
    content: pick<() => unknown>([() => transcriptText(), () => Array.from({ length: int(0, 5) }, block), () => 42, () => null])(),
    usage: maybe(() => ({ input: int(0, 1e6), output: int(0, 1e4), cacheRead: 0, cacheWrite: 7, totalTokens: 9, cost: { total: 0.0123, input: 1e-7 } })),
    model: maybe(scalar),
    provider: maybe(scalar),
    stopReason: maybe(() => pick(["stop", "toolUse", "error"])),
    toolCallId: maybe(scalar),
    toolName: maybe(scalar),
    isError: maybe(() => rand() < 0.5),
    customType: maybe(() => pick(["openclaw.nested-tool.v1", "other"])),
    details: maybe(() => pick<unknown>([{ parentToolCallId: "p", toolCallId: "c", toolName: "exec", afterEntryId: "e", output: transcriptText() }, "str", [1]])),
    __openclaw: maybe(() => pick<unknown>([{ runId: "r-1", other: transcriptText() }, { runId: 5 }, "str"])),
    details2: maybe(transcriptText),
  };
  const ev: Record<string, unknown> = {
    type: pick(["message", "custom", "compaction", "session", "model_change"]),
    id: maybe(scalar),
    parentId: maybe(scalar),
    timestamp: maybe(() => "2026-12-05T08:00:00.000Z"),
    customType: maybe(() => pick(["model-snapshot", "other"])),
    data: maybe(() => pick<unknown>([{ timestamp: 1, provider: "p", modelApi: "a", modelId: "m", secret: transcriptText() }, "str", null])),
    summary: maybe(transcriptText),
    tokensBefore: maybe(() => int(0, 1e6)),
    cwd: maybe(() => "/home/me"),
    message: rand() < 0.9 ? message : pick<unknown>(["str", null, [message]]),
  };
  for (const k of Object.keys(ev)) if (ev[k] === undefined) delete ev[k];
  return ev;
}

/** JSON text with a repeated key (the last wins in JSON.parse), whitespace between tokens, escapes. */
function respell(json: string): string {
  let out = json;
  if (rand() < 0.2) out = out.replace(/^\{/, `{"message":{"role":"first","content":"dropped"},"type":"first",`);
  if (rand() < 0.2) out = out.replace(/,"/g, ' ,\n "').replace(/":/g, '" : ');
  // the values metadataOf compares, spelt with escapes
  if (rand() < 0.3) out = out.replace(/"toolCall"/g, '"tool\\u0043all"').replace(/"tool_call"/g, '"tool\\u005fcall"').replace(/"model-snapshot"/g, '"model\\u002dsnapshot"').replace(/"text"/g, '"te\\u0078t"');
  return out;
}

describe("metadata from the JSON text", () => {
  it("is the skeleton metadataOf makes, on checked-in and generated events, in both encodings", () => {
    const real = fixtureEvents();
    assert.ok(real.length > 100, `${real.length} fixture events`);
    const texts = [...real, ...Array.from({ length: 1500 }, () => respell(JSON.stringify(event())))];
    let raw = 0;
    for (const json of texts) {
      const want = metadataOf(JSON.parse(json) as Record<string, unknown>);
      for (const encoding of ["utf16", "latin1"] as const) {
        const got = metadataRaw(encoding === "latin1" ? latin1(json) : json, encoding);
        assert.ok(got !== undefined, `no skeleton for ${json}`);
        raw++;
        assert.deepEqual(JSON.parse(encoding === "latin1" ? fromLatin1(got) : got), want, `${encoding}: ${json}`);
      }
    }
    assert.equal(raw, texts.length * 2);
  });

  it("leaves what is not an object, or would not give JSON, to the decoding path", () => {
    assert.equal(metadataRaw("[1]", "utf16"), undefined);
    assert.equal(metadataRaw('{"type":"message","message":{"usage":{"input":NaN}}}', "utf16"), undefined);
    const t = createEventTransform("metadata", createRedactor({ emails: true, patterns: [] }));
    assert.equal(t('{"type":"message","message":{"usage":{"input":NaN}}}', "utf16"), null);
    const ok = t(latin1(JSON.stringify({ type: "message", id: "é1", message: { role: "user", content: "secret é" } })), "latin1")!;
    assert.equal(ok.encoding, "latin1");
    assert.deepEqual(JSON.parse(fromLatin1(ok.json)), { type: "message", id: "é1", message: { role: "user", content: "" } });
  });
});
