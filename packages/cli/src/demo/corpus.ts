/**
 * Deterministic generator of realistic OpenClaw homes — the `serve --demo` dataset and the benchmark
 * corpora — in both store formats:
 *   legacy — agents/<id>/sessions/<sid>.jsonl (+ .reset.<ts> / .deleted.<ts> archives, sessions.json)
 *   sqlite — agents/<id>/agent/openclaw-agent.sqlite (json and zstd rows as OpenClaw writes them, archive
 *            blobs, cold archive files) using OpenClaw 2026.9.6's own table definitions
 * and two session shapes (profiles, see corpus-spec.ts). Realistic means: heavy-tailed session lengths
 * (Pareto), tool outputs of code, logs and JSON cut from a pool of such text, many agents, models and
 * providers, cron and subagent sessions, a sprinkle of bad input. The generator tallies the expected
 * totals itself, so the bench can check that every total is exact.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";
import { SESSION_BUILDERS } from "./corpus-sessions.ts";
import type { CorpusSpec, CorpusTotals } from "./corpus-spec.ts";
import { buildPool, prng, uniformSource } from "./corpus-text.ts";

export { CORPUS_PROFILES, type CorpusFormat, type CorpusProfile, type CorpusSpec, type CorpusTotals } from "./corpus-spec.ts";
export { prng } from "./corpus-text.ts";

export const GENERATOR_VERSION = 6;


const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

export function generateCorpus(dir: string, spec: CorpusSpec, onProgress?: (bytes: number) => void): CorpusTotals {
  const profile = spec.profile ?? "large-events";
  const random = profile === "large-events" ? prng : uniformSource;
  const rand = random(spec.seed);
  const pool = buildPool(random(spec.seed + 1), 8 * 1024 * 1024);
  // Cuts fall between characters: half a surrogate pair is valid JS but not Unicode, and strict JSON readers
  // (ccusage's among them) drop the whole line.
  const cut = (len: number) => {
    let start = Math.floor(rand() * (pool.length - len - 1));
    let end = start + len;
    if (isLowSurrogate(pool.charCodeAt(start))) start++;
    if (isHighSurrogate(pool.charCodeAt(end - 1))) end--;
    return pool.slice(start, end);
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
    events: 0,
    largestLineBytes: 0,
  };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ models: { providers: { local: { baseUrl: "http://127.0.0.1:11434/v1", models: [{ id: "qwen3-coder-30b", cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } }] } } } }));

  const buildSession = SESSION_BUILDERS[profile];
  // Raw transcript bytes per session; SQLite stores compress large rows, so they need a little more raw text
  // for the same bytes on disk (factor measured on this generator's output, both profiles).
  const perSessionBudget = (spec.targetBytes * (spec.format === "sqlite" ? 1.1 : 1)) / spec.sessions;
  const days = spec.days ?? 90;
  const t0 = (spec.endAt ?? Date.UTC(2026, 10, 22)) - days * 86_400_000;
  const dbs = new Map<string, DatabaseSync>();
  const indexes = new Map<string, Record<string, unknown>>();
  const source = { rand, cut, totals };

  // The small-events profile fills the target whatever the sessions come to (spec.sessions sets their mean length).
  const untilTarget = profile === "small-events";
  let rawAtLastCheck = 0;
  for (let s = 0; untilTarget || s < spec.sessions; s++) {
    const agent = `agent${Math.floor(rand() ** 1.7 * spec.agents)}`;
    const sid = crypto.createHash("sha1").update(`${spec.seed}:${s}`).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, "$1-$2-$3-$4-$5");
    const kindRoll = rand();
    const kind = kindRoll < 0.2 ? "cron" : kindRoll < 0.35 ? "subagent" : kindRoll < 0.5 ? "group" : "main";
    const sessionKey =
      kind === "cron" ? `cron:job-${s % 37}` : kind === "subagent" ? `agent:${agent}:subagent:${sid}` : kind === "group" ? `agent:${agent}:telegram:group:${s % 91}` : s % 50 === 0 ? `agent:${agent}:main` : `agent:${agent}:explicit:${sid.slice(0, 8)}`;
    const { w, t } = buildSession(source, { s, sid, agent, budget: perSessionBudget, t0, days });
    // A sprinkle of bad input (legacy files only get raw line damage; SQLite rows are always whole JSON).
    const bad = spec.format === "legacy" && rand() < 0.02;
    totals.sessions++;
    totals.events += w.lines.length;
    totals.rawBytes += w.bytes;
    totals.largestLineBytes = Math.max(totals.largestLineBytes, w.largestLine);

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
    if (spec.format === "sqlite" && profile === "large-events" && s % 200 === 0) {
      let size = totals.storeBytes;
      for (const a of dbs.keys()) size += fs.statSync(path.join(dir, "agents", a, "agent", "openclaw-agent.sqlite")).size;
      if (size >= spec.targetBytes) break;
    }
    // Until a checkpoint, the rows are in the write-ahead log: the database file's size says little.
    if (spec.format === "sqlite" && profile === "small-events" && totals.rawBytes - rawAtLastCheck >= spec.targetBytes / 100) {
      rawAtLastCheck = totals.rawBytes;
      let size = totals.storeBytes;
      for (const [a, db] of dbs) {
        db.exec("COMMIT");
        db.exec("PRAGMA wal_checkpoint(PASSIVE);");
        db.exec("BEGIN");
        size += fs.statSync(path.join(dir, "agents", a, "agent", "openclaw-agent.sqlite")).size;
      }
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
