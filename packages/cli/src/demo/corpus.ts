/**
 * Deterministic generator of realistic OpenClaw homes — the `serve --demo` dataset and the benchmark
 * corpora — in both store formats:
 *   legacy — agents/<id>/sessions/<sid>.jsonl (+ .reset.<ts> / .deleted.<ts> archives, sessions.json)
 *   sqlite — agents/<id>/agent/openclaw-agent.sqlite (json and zstd rows as OpenClaw writes them, archive
 *            blobs, cold archive files) using OpenClaw 2026.9.6's own table definitions
 * Realistic means: heavy-tailed session lengths (Pareto), 10–200 KB tool outputs of code, logs and JSON
 * (with the quotes, escapes and non-ASCII that make JSON parsing expensive), many agents, models and
 * providers, cron and subagent sessions, a sprinkle of bad input. The generator tallies the expected
 * totals itself, so the bench can check that every total is exact.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";

export const GENERATOR_VERSION = 6;

export type CorpusFormat = "legacy" | "sqlite";

export type CorpusSpec = {
  format: CorpusFormat;
  targetBytes: number;
  seed: number;
  sessions: number;
  agents: number;
  /** OpenClaw's agent-database DDL (needed for the sqlite format; the test kit has a copy of the real one). */
  ddl?: string[];
  /** Sessions start within the 90 days before this instant (default: a fixed date, for reproducible corpora). */
  endAt?: number;
  /** Days the sessions are spread over (default 90). */
  days?: number;
};

export type CorpusTotals = {
  sessions: number;
  llmCalls: number;
  toolCalls: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
  recordedCostNanos: number;
  /** Raw JSON bytes of every event (before compression). */
  rawBytes: number;
  /** Bytes on disk of the transcript stores (files, or database + cold files). */
  storeBytes: number;
  badLines: number;
};

/** xorshift128+: fast, deterministic, good enough for workloads. */
export function prng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  let b = (seed * 2654435761) >>> 0 || 0x85ebca6b;
  return () => {
    let s1 = a;
    const s0 = b;
    a = s0;
    s1 ^= s1 << 23;
    s1 ^= s1 >>> 17;
    s1 ^= s0 ^ (s0 >>> 26);
    b = s1 >>> 0;
    return ((a + b) >>> 0) / 4294967296;
  };
}

const WORDS =
  "the of and to in is for on that with as by this be are from at or an it not use function return const let var if else while await async import export class new value result error data user agent session model token cache read write file path line column json object array string number true false null undefined config gateway channel message tool call output input request response status ok fail retry timeout stream chunk buffer parse render update delete create query index table row key id type name text content summary"
    .split(" ");
const UNICODE = ["é", "ü", "ß", "→", "—", "…", "日本", "中文", "😀", "✓"];

/** A pool of realistic text (code, logs, JSON, prose) that tool outputs and messages are cut from. */
function buildPool(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const kind = rand();
    let chunk: string;
    if (kind < 0.35) {
      // code
      const name = WORDS[Math.floor(rand() * WORDS.length)]!;
      chunk = `export function ${name}${Math.floor(rand() * 1000)}(input: string, opts = {}) {\n  const ${name} = JSON.parse(input);\n  if (!${name}.ok) throw new Error("failed: \\"" + ${name}.error + "\\"");\n  return { "${name}": ${name}.value, path: "C:\\\\Users\\\\op\\\\${name}.ts" };\n}\n`;
    } else if (kind < 0.6) {
      // log lines
      chunk = `2026-11-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}T${String(Math.floor(rand() * 24)).padStart(2, "0")}:12:07.${Math.floor(rand() * 999)}Z INFO [${WORDS[Math.floor(rand() * WORDS.length)]}] request id=${Math.floor(rand() * 1e9).toString(16)} took ${Math.floor(rand() * 900)}ms\t${UNICODE[Math.floor(rand() * UNICODE.length)]}\n`;
    } else if (kind < 0.85) {
      // JSON output
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < 6; i++) obj[WORDS[Math.floor(rand() * WORDS.length)]!] = rand() < 0.5 ? Math.floor(rand() * 1e6) : `${WORDS[Math.floor(rand() * WORDS.length)]} "${WORDS[Math.floor(rand() * WORDS.length)]}"`;
      chunk = `${JSON.stringify(obj, null, 2)}\n`;
    } else {
      // prose
      const n = 12 + Math.floor(rand() * 30);
      const words: string[] = [];
      for (let i = 0; i < n; i++) words.push(rand() < 0.03 ? UNICODE[Math.floor(rand() * UNICODE.length)]! : WORDS[Math.floor(rand() * WORDS.length)]!);
      chunk = `${words.join(" ")}.\n`;
    }
    parts.push(chunk);
    size += chunk.length;
  }
  return parts.join("");
}

// Prices as in OpenClaw 2026.9.6's catalog (USD per 1M tokens: input, output, cache read, cache write);
// `recorded` is the share of calls whose transcript carries a cost. Two models are absent from the catalog,
// so some of their calls stay unpriced — as on a real gateway.
const MODELS: { provider: string; model: string; recorded: number; price: [number, number, number, number] }[] = [
  { provider: "anthropic", model: "claude-sonnet-5", recorded: 0.9, price: [2, 10, 0.2, 2.5] },
  { provider: "anthropic", model: "claude-opus-5", recorded: 0.9, price: [5, 25, 0.5, 6.25] },
  { provider: "openai", model: "gpt-6-sol", recorded: 0.85, price: [2, 10, 0.2, 2.5] },
  { provider: "openai", model: "gpt-5.4-mini", recorded: 0.8, price: [0.75, 4.5, 0.075, 0] },
  { provider: "xai", model: "grok-4.5", recorded: 0.7, price: [2, 6, 0.3, 0] },
  { provider: "openrouter", model: "moonshotai/kimi-k2", recorded: 0.6, price: [0.6, 2.5, 0.15, 0] },
  { provider: "local", model: "qwen3-coder-30b", recorded: 0, price: [0, 0, 0, 0] },
];
const TOOLS = ["read", "exec", "write", "edit", "web_search", "web_fetch", "browser", "memory_search", "sessions_spawn", "message"];

type Ev = Record<string, unknown>;

class SessionWriter {
  readonly lines: string[] = [];
  bytes = 0;
  last: string | null = null;
  n = 0;
  readonly sid: string;
  constructor(sid: string) {
    this.sid = sid;
  }
  push(e: Ev): void {
    const id = `${this.sid.slice(0, 8)}-${++this.n}`;
    const line = JSON.stringify({ ...e, id, parentId: this.last });
    this.last = id;
    this.lines.push(line);
    this.bytes += line.length + 1;
  }
}

export function generateCorpus(dir: string, spec: CorpusSpec, onProgress?: (bytes: number) => void): CorpusTotals {
  const rand = prng(spec.seed);
  const pool = buildPool(prng(spec.seed + 1), 8 * 1024 * 1024);
  const cut = (len: number) => {
    const start = Math.floor(rand() * (pool.length - len - 1));
    return pool.slice(start, start + len);
  };
  const totals: CorpusTotals = {
    sessions: 0,
    llmCalls: 0,
    toolCalls: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    recordedCostNanos: 0,
    rawBytes: 0,
    storeBytes: 0,
    badLines: 0,
  };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ models: { providers: { local: { baseUrl: "http://127.0.0.1:11434/v1", models: [{ id: "qwen3-coder-30b", cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } }] } } } }));

  // Raw transcript bytes per session; SQLite stores compress large rows, so they need a little more raw text
  // for the same bytes on disk (factor measured on this generator's output).
  const perSessionBudget = (spec.targetBytes * (spec.format === "sqlite" ? 1.1 : 1)) / spec.sessions;
  const days = spec.days ?? 90;
  const t0 = (spec.endAt ?? Date.UTC(2026, 10, 22)) - days * 86_400_000;
  const dbs = new Map<string, DatabaseSync>();
  const indexes = new Map<string, Record<string, unknown>>();

  for (let s = 0; s < spec.sessions; s++) {
    const agent = `agent${Math.floor(rand() ** 1.7 * spec.agents)}`;
    const sid = crypto.createHash("sha1").update(`${spec.seed}:${s}`).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, "$1-$2-$3-$4-$5");
    const kindRoll = rand();
    const kind = kindRoll < 0.2 ? "cron" : kindRoll < 0.35 ? "subagent" : kindRoll < 0.5 ? "group" : "main";
    const sessionKey =
      kind === "cron" ? `cron:job-${s % 37}` : kind === "subagent" ? `agent:${agent}:subagent:${sid}` : kind === "group" ? `agent:${agent}:telegram:group:${s % 91}` : s % 50 === 0 ? `agent:${agent}:main` : `agent:${agent}:explicit:${sid.slice(0, 8)}`;
    // Pareto-distributed length: most sessions are short, a few are huge.
    // (The divisor is calibrated so that the mean session is about the budget: 6,000 sessions ≈ 1 GB.)
    const turns = Math.max(1, Math.min(400, Math.floor(((1 / (1 - rand())) ** (1 / 1.5) * perSessionBudget) / 128_000)));
    const w = new SessionWriter(sid);
    // Later sessions are more likely (activity grows), and none starts in the last hour before endAt.
    let t = t0 + Math.floor(rand() ** 0.7 * (days * 86_400_000 - 3_600_000));
    const iso = () => new Date(t).toISOString();
    w.push({ type: "session", version: 4, id: sid, timestamp: iso(), cwd: `/home/op/.openclaw/workspace-${agent}` });
    const m = MODELS[Math.floor(rand() ** 1.5 * MODELS.length)]!;
    w.push({ type: "model_change", provider: m.provider, modelId: m.model, timestamp: iso() });
    let context = 8_000 + Math.floor(rand() * 20_000);
    const call = (toolCalls: { id: string; name: string; args: unknown }[], text: string | null) => {
      t += 800 + Math.floor(rand() * 20_000);
      const input = 50 + Math.floor(rand() * 3000);
      const cacheRead = rand() < 0.8 ? context : 0;
      const cacheWrite = rand() < 0.2 ? 500 + Math.floor(rand() * 5000) : 0;
      const output = 20 + Math.floor(rand() * (text ? 900 : 200));
      const [pi, po, pr, pw] = m.price;
      const cost = (input * pi + output * po + cacheRead * pr + cacheWrite * pw) / 1e6;
      const usage: Ev = { input, output, cacheRead, cacheWrite, totalTokens: input + output + cacheRead + cacheWrite };
      const recorded = rand() < m.recorded;
      if (recorded) {
        usage["cost"] = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: cost };
        totals.recordedCostNanos += Math.round(cost * 1e9);
      }
      const content: unknown[] = [];
      if (text) content.push({ type: "text", text });
      if (rand() < 0.3) content.unshift({ type: "thinking", thinking: cut(200 + Math.floor(rand() * 2000)) });
      for (const c of toolCalls) content.push({ type: "toolCall", id: c.id, name: c.name, arguments: c.args });
      w.push({
        type: "message",
        timestamp: iso(),
        message: { role: "assistant", content, api: "anthropic-messages", provider: m.provider, model: m.model, usage, stopReason: toolCalls.length ? "toolUse" : "stop", timestamp: t - 700, responseId: `r${w.n}`, __openclaw: { runId: `run-${s}-${w.n}` } },
      });
      totals.llmCalls++;
      totals.toolCalls += toolCalls.length;
      totals.tokens.input += input;
      totals.tokens.output += output;
      totals.tokens.cacheRead += cacheRead;
      totals.tokens.cacheWrite += cacheWrite;
      context += input + output;
    };
    for (let turn = 0; turn < turns; turn++) {
      t += 30_000 + Math.floor(rand() * 3_600_000);
      w.push({ type: "message", timestamp: iso(), message: { role: "user", content: cut(40 + Math.floor(rand() * 1500)), timestamp: t - 40 } });
      const tools = Math.floor(-Math.log(1 - rand()) * 1.6);
      for (let k = 0; k < tools; k++) {
        const name = TOOLS[Math.floor(rand() ** 1.4 * TOOLS.length)]!;
        const id = `call_${s}_${turn}_${k}`;
        call([{ id, name, args: name === "write" ? { path: "src/x.ts", content: cut(500 + Math.floor(rand() * 8000)) } : { path: "README.md", q: cut(30) } }], null);
        t += 200 + Math.floor(rand() * 9000);
        const big = rand() < 0.55;
        const size = big ? 10_000 + Math.floor(rand() ** 2 * 190_000) : 100 + Math.floor(rand() * 2000);
        const isError = rand() < 0.05;
        w.push({
          type: "message",
          timestamp: iso(),
          message: { role: "toolResult", toolCallId: id, toolName: name, content: [{ type: "text", text: cut(size) }], details: { status: isError ? "error" : "ok", tool: name }, isError, timestamp: t },
        });
      }
      call([], cut(100 + Math.floor(rand() * 2500)));
      // Compaction keeps the context inside the model's window, as OpenClaw does.
      if (context > 150_000) {
        w.push({ type: "compaction", timestamp: iso(), summary: cut(2000), firstKeptEntryId: "x", tokensBefore: context });
        context = 20_000 + Math.floor(rand() * 10_000);
      }
    }
    // A sprinkle of bad input (legacy files only get raw line damage; SQLite rows are always whole JSON).
    const bad = spec.format === "legacy" && rand() < 0.02;
    totals.sessions++;
    totals.rawBytes += w.bytes;

    const where = rand();
    if (spec.format === "legacy") {
      const sessionsDir = path.join(dir, "agents", agent, "sessions");
      fs.mkdirSync(sessionsDir, { recursive: true });
      let name = `${sid}.jsonl`;
      if (where < 0.05) name = `${sid}.jsonl.reset.${new Date(t).toISOString().replace(/:/g, "-")}`;
      else if (where < 0.08) name = `${sid}.jsonl.deleted.${new Date(t).toISOString().replace(/:/g, "-")}`;
      let text = w.lines.join("\n") + "\n";
      if (bad) {
        text += `{"type":"message","message":{"role":"user","content":"cut off\n\n{"type":"weird_event","id":"w${s}"}\n`;
        totals.badLines += 3;
      }
      fs.writeFileSync(path.join(sessionsDir, name), text);
      totals.storeBytes += Buffer.byteLength(text);
      if (name.endsWith(".jsonl")) {
        const idx = indexes.get(agent) ?? {};
        idx[sessionKey] = { sessionId: sid, updatedAt: t, chatType: kind === "group" ? "group" : "direct", ...(kind === "subagent" ? { spawnedBy: `agent:${agent}:main` } : {}) };
        indexes.set(agent, idx);
      }
    } else {
      let db = dbs.get(agent);
      if (!db) {
        const dbPath = path.join(dir, "agents", agent, "agent", "openclaw-agent.sqlite");
        fs.mkdirSync(path.dirname(dbPath), { recursive: true });
        db = new DatabaseSync(dbPath);
        db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;");
        if (!spec.ddl) throw new Error("the sqlite corpus format needs spec.ddl (OpenClaw's agent database DDL)");
        for (const ddl of spec.ddl) db.exec(ddl);
        db.exec("BEGIN");
        dbs.set(agent, db);
      }
      // One node per session key, pointing at its newest window. An upsert, not INSERT OR REPLACE: a replace
      // deletes the row, and the schema's ON DELETE CASCADE would take the key's older windows with it.
      db.prepare(
        `INSERT INTO session_nodes (session_key, current_session_id, entry_json, entry_valid, updated_at, created_via) VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT (session_key) DO UPDATE SET current_session_id = excluded.current_session_id, entry_json = excluded.entry_json, updated_at = excluded.updated_at`,
      ).run(
        sessionKey,
        sid,
        JSON.stringify({ sessionId: sid, updatedAt: t, skillsSnapshot: { prompt: cut(3000), skills: [{ name: "github" }, { name: "weather" }] } }),
        t,
        kind === "cron" ? "cron" : kind === "subagent" ? "spawn" : "channel",
      );
      db.prepare(`INSERT INTO session_windows (session_id, session_key, reason, created_at, updated_at, chat_type, channel) VALUES (?, ?, 'initial', ?, ?, ?, ?)`).run(
        sid,
        sessionKey,
        t0,
        t,
        kind === "group" ? "group" : "direct",
        kind === "group" ? "telegram" : null,
      );
      const jsonl = w.lines.join("\n") + "\n";
      if (where < 0.03) {
        const blob = zlib.zstdCompressSync(Buffer.from(jsonl), { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } });
        const sha = crypto.createHash("sha256").update(blob).digest("hex");
        db.prepare(`INSERT INTO session_transcript_archives (session_id, generation, session_key, reason, encoding, archive_blob, archive_sha256, archive_name, created_at) VALUES (?, 'g1', ?, 'deleted', 'zstd', ?, ?, ?, ?)`).run(sid, sessionKey, blob, sha, `${sid}.jsonl.deleted.${t}.zst`, t);
      } else if (where < 0.08) {
        const blob = zlib.zstdCompressSync(Buffer.from(jsonl), { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } });
        const sha = crypto.createHash("sha256").update(blob).digest("hex");
        const coldDir = path.join(dir, "agents", agent, "sessions", "cold");
        fs.mkdirSync(coldDir, { recursive: true });
        fs.writeFileSync(path.join(coldDir, `${sha}.jsonl.zst`), blob);
        totals.storeBytes += blob.length;
        db.prepare(`INSERT INTO session_transcript_cold_archives (session_id, generation, archive_name, archive_sha256, event_count, raw_bytes, archive_bytes, last_seq, archived_at, storage) VALUES (?, 'g1', ?, ?, ?, ?, ?, ?, ?, 'file')`).run(sid, `${sha}.jsonl.zst`, sha, w.lines.length, jsonl.length, blob.length, w.lines.length - 1, t);
      } else {
        const insert = db.prepare(`INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes, navigation_json) VALUES (?, ?, ?, ?, ?, ?, ?)`);
        w.lines.forEach((line, seq) => {
          const len = Buffer.byteLength(line);
          if (len >= 1024 && !line.includes("\\u")) {
            const z = zlib.zstdCompressSync(Buffer.from(line), { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1, [zlib.constants.ZSTD_c_checksumFlag]: 1 } });
            insert.run(sid, seq, null, t, z, len, '{"version":1,"report":{"kind":"canonical"},"navigation":{},"reset":{},"model":{},"modelBytes":0,"modelWithoutCheckpointBytes":0,"withoutCustomDataBytes":0}');
          } else insert.run(sid, seq, line, t, null, null, null);
        });
        db.prepare(`INSERT INTO transcript_rewrite_watermarks (session_id, generation, updated_at) VALUES (?, 'g1', ?)`).run(sid, t);
      }
    }
    onProgress?.(totals.rawBytes);
    if (totals.rawBytes >= spec.targetBytes && spec.format === "legacy") break;
    if (spec.format === "sqlite" && s % 200 === 0) {
      let size = totals.storeBytes;
      for (const a of dbs.keys()) size += fs.statSync(path.join(dir, "agents", a, "agent", "openclaw-agent.sqlite")).size;
      if (size >= spec.targetBytes) break;
    }
  }
  for (const [agent, idx] of indexes) fs.writeFileSync(path.join(dir, "agents", agent, "sessions", "sessions.json"), JSON.stringify(idx));
  for (const [agent, db] of dbs) {
    db.exec("COMMIT");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
    db.close();
    totals.storeBytes += fs.statSync(path.join(dir, "agents", agent, "agent", "openclaw-agent.sqlite")).size;
  }
  totals.tokens.total = totals.tokens.input + totals.tokens.output + totals.tokens.cacheRead + totals.tokens.cacheWrite;
  fs.writeFileSync(path.join(dir, "corpus.json"), JSON.stringify({ generator: GENERATOR_VERSION, spec, totals }, null, 2));
  return totals;
}
