import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { PromptAudit, promptSizes } from "../src/live/prompt-audit.ts";
import { createRedactor } from "../src/privacy/redact.ts";
import { metadataOf } from "../src/privacy/metadata.ts";
import { createSessionFilter, globToRegExp } from "../src/ship/filters.ts";
import { backoffMs, classify, parseRetryAfter } from "../src/ship/retry.ts";
import { readJsonState, writeFileAtomic } from "../src/state/files.ts";
import { isStale, tryLock } from "../src/state/lock.ts";

describe("state files", () => {
  it("writes atomically with 0600; a corrupt file is moved aside, not reused", () => {
    const dir = tmpDir();
    const f = path.join(dir, "sub", "x.json");
    writeFileAtomic(f, "{}");
    assert.equal((fs.statSync(f).mode & 0o777).toString(8), "600");
    assert.equal((fs.statSync(path.dirname(f)).mode & 0o777).toString(8), "700");
    fs.writeFileSync(f, "garbage");
    const r = readJsonState(f, () => ({ fresh: true }), () => null);
    assert.deepEqual(r.value, { fresh: true });
    assert.ok(r.movedAside && fs.existsSync(r.movedAside));
    assert.ok(!fs.existsSync(f));
    writeFileAtomic(f, JSON.stringify({ schemaVersion: 99 }));
    const v = readJsonState(f, () => ({}), (x) => ((x as { schemaVersion: number }).schemaVersion === 1 ? null : "unknown version"));
    assert.match(v.problem ?? "", /unknown version/);
  });
});

describe("cycle lock", () => {
  it("is exclusive; a dead owner's or an old lock is taken over", () => {
    const dir = tmpDir();
    const file = path.join(dir, "cycle.lock");
    const a = tryLock(file, "a", { staleAfterMs: 60_000 });
    assert.ok(a.ok);
    const b = tryLock(file, "b", { staleAfterMs: 60_000 });
    assert.equal(b.ok, false);
    assert.equal(!b.ok && b.owner?.pid, process.pid);
    a.lock.release();
    // A lock left by a process that no longer exists.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    fs.writeFileSync(file, JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), startedAt: Date.now(), purpose: "crashed" }));
    const c = tryLock(file, "c", { staleAfterMs: 60_000 });
    assert.ok(c.ok, "stale lock of a dead process taken over");
    c.lock.release();
    assert.equal(isStale({ pid: process.pid, host: os.hostname(), startedAt: 0, purpose: "x" }, Date.now(), 1000), true, "too old");
    assert.equal(isStale({ pid: process.pid, host: os.hostname(), startedAt: Date.now(), purpose: "x" }, Date.now(), 60_000), false);
  });
});

describe("filters and retry policy", () => {
  it("globs: * only, anchored, everything else literal; deny beats allow", () => {
    assert.ok(globToRegExp("agent:main:cron:*").test("agent:main:cron:nightly"));
    assert.ok(!globToRegExp("agent:main:cron:*").test("xagent:main:cron:nightly"));
    assert.ok(!globToRegExp("a.c").test("abc"), ". is literal");
    assert.ok(globToRegExp("a?c[1]").test("a?c[1]"));
    const f = createSessionFilter({ agents: { allow: ["main", "ops"], deny: ["ops"] }, sessions: { deny: ["*:subagent:*"] } });
    assert.equal(f.agentAllowed("ops"), false);
    assert.equal(f.agentAllowed("main"), true);
    assert.equal(f.agentAllowed("other"), false);
    assert.equal(createSessionFilter({ agents: { allow: [], deny: [] }, sessions: { deny: [] } }).agentAllowed("any"), true);
    assert.equal(f.sessionDenied("agent:main:subagent:1", "sid"), "*:subagent:*");
    assert.equal(f.sessionDenied(null, "sid"), null);
  });
  it("retries 5xx/408/429/network/timeouts, stops on 401/403, never retries other 4xx", () => {
    assert.equal(classify({ status: 503 }), "retry");
    assert.equal(classify({ status: 408 }), "retry");
    assert.equal(classify({ status: 429 }), "retry");
    assert.equal(classify({ networkError: "ECONNREFUSED" }), "retry");
    assert.equal(classify({ timeout: true }), "retry");
    assert.equal(classify({ status: 401 }), "auth");
    assert.equal(classify({ status: 403 }), "auth");
    assert.equal(classify({ status: 400 }), "reject");
    assert.equal(classify({ status: 413 }), "reject");
    assert.equal(classify({ status: 200 }), "ok");
  });
  it("exponential backoff with jitter; Retry-After wins when longer", () => {
    assert.equal(backoffMs(1, 1000, 0.5, null), 1000);
    assert.equal(backoffMs(3, 1000, 0.5, null), 4000);
    assert.equal(backoffMs(1, 1000, 0, null), 500);
    assert.equal(backoffMs(1, 1000, 0.999, null), 1499);
    assert.equal(backoffMs(1, 100, 0.5, 2000), 2000);
    assert.equal(parseRetryAfter("3", 0), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter("soon", 0), null);
    assert.equal(parseRetryAfter("999999", 0), 600_000, "capped");
  });
});

describe("privacy", () => {
  it("metadata keeps figures and names, drops text and arguments", () => {
    const ev = {
      type: "message",
      id: "e1",
      parentId: "p",
      timestamp: "2026-11-22T00:00:00Z",
      message: {
        role: "assistant",
        provider: "fake",
        model: "m",
        usage: { input: 1, output: 2, cost: { total: 0.1 } },
        content: [{ type: "text", text: "secret plan" }, { type: "toolCall", id: "c1", name: "read", arguments: { path: "/etc/passwd" } }, { type: "toolCall", id: "c2", name: "tool_call", arguments: { id: "sessions_spawn", args: { task: "x" } } }],
        __openclaw: { runId: "r", other: "y" },
      },
    };
    const m = metadataOf(ev) as any;
    const text = JSON.stringify(m);
    assert.ok(!text.includes("secret plan") && !text.includes("passwd") && !text.includes('"task"'));
    assert.deepEqual(m.message.usage, ev.message.usage);
    assert.deepEqual(m.message.content[2].arguments, { id: "sessions_spawn" });
    assert.deepEqual(m.message.__openclaw, { runId: "r" });
  });
  it("bad custom patterns are reported, not thrown", () => {
    const r = createRedactor({ emails: true, patterns: ["(", "/x*/", "/ok\\d+/g"] });
    assert.equal(r.invalid.length, 2);
    assert.equal(r.text("ok12 and ghp_abcdefghijklmnopqrstuvwxyz123456 mail a@b.io"), "[REDACTED] and [REDACTED] mail [EMAIL]");
  });
});

describe("large-prompt audit", () => {
  it("warns, dumps bounded masked previews (0600), rotates by size", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "large-prompts.jsonl");
    const warnings: string[] = [];
    const audit = new PromptAudit({ thresholdChars: 1000, file, maxBytes: 9000, files: 2, redactor: createRedactor({ emails: true, patterns: [] }), warn: (m) => warnings.push(m) });
    const e = { runId: "r", sessionId: "s", provider: "p", model: "m", systemPrompt: "S".repeat(5000), prompt: "mail me at x@y.com", historyMessages: [{ role: "user", content: "h".repeat(100) }] };
    assert.equal(promptSizes(e).total, 5000 + 18 + JSON.stringify(e.historyMessages[0]).length);
    assert.equal(audit.check({ ...e, systemPrompt: "s" }, {}, 0), null);
    for (let i = 0; i < 4; i++) audit.check(e, { sessionKey: "agent:main:main" }, Date.now());
    await audit.flush();
    assert.equal(warnings.length, 4);
    assert.match(warnings[0]!, /LARGE PROMPT/);
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), "600");
    const rec = JSON.parse(fs.readFileSync(file, "utf8").trim().split("\n")[0]!);
    assert.equal(rec.previews.system.length, 2000);
    assert.ok(!JSON.stringify(rec).includes("x@y.com"));
    assert.ok(fs.existsSync(`${file}.1`), "rotated");
    assert.ok(!fs.existsSync(`${file}.3`));
  });
});
