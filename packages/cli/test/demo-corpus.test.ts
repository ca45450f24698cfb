/**
 * The corpus generator's own tally (what the bench checks every report against) equals what core's reader
 * finds in the generated home, for the small-events profile in both store formats; and the large-events
 * profile still writes the transcripts it always wrote (cached bench corpora stay valid).
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { DbHandles, listHome, readPart } from "@clawtower/core";
import { AGENT_DB_DDL, tmpDir } from "@clawtower/testkit";
import { generateCorpus, type CorpusFormat, type CorpusTotals } from "../src/demo/corpus.ts";

const MiB = 2 ** 20;

type Read = {
  sessions: number;
  events: number;
  llmCalls: number;
  toolCalls: number;
  tokens: CorpusTotals["tokens"];
  recordedCostNanos: number;
  models: Set<string>;
  largeToolResults: number;
  toolResults: number;
  largestLine: number;
  problems: Map<string, number>;
};

/** Everything core's reader reports for the home, summed over every part. */
function readHome(home: string): Read {
  const dbs = new DbHandles();
  const out: Read = {
    sessions: 0,
    events: 0,
    llmCalls: 0,
    toolCalls: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    recordedCostNanos: 0,
    models: new Set(),
    largeToolResults: 0,
    toolResults: 0,
    largestLine: 0,
    problems: new Map(),
  };
  try {
    const listing = listHome(home, { dbs });
    assert.deepEqual(listing.problems, []);
    const sessions = new Set<string>();
    for (const part of listing.parts) {
      const r = readPart({ part, from: null, cursor: null }, { maxLineBytes: 64 * MiB, dbs });
      assert.equal(r.readError, null);
      sessions.add(`${part.agentId}/${part.sessionId}`);
      const { ledger } = r;
      out.events += ledger.events.length + ledger.llmCalls.length + ledger.toolResults.length + ledger.toolCalls.filter((c) => c.result).length;
      for (const c of ledger.llmCalls) {
        out.llmCalls++;
        out.tokens.input += c.tokens.input;
        out.tokens.output += c.tokens.output;
        out.tokens.cacheRead += c.tokens.cacheRead;
        out.tokens.cacheWrite += c.tokens.cacheWrite;
        out.recordedCostNanos += Math.round((c.recordedCostUsd ?? 0) * 1e9);
        out.models.add(`${c.provider}/${c.model}`);
      }
      out.toolCalls += ledger.toolCalls.length;
      const results = [...ledger.toolResults, ...ledger.toolCalls.flatMap((c) => (c.result ? [c.result] : []))];
      for (const res of results) {
        out.toolResults++;
        if (res.resultBytes >= 10_000) out.largeToolResults++;
        out.largestLine = Math.max(out.largestLine, res.resultBytes);
      }
      for (const p of ledger.problems) out.problems.set(p.kind, (out.problems.get(p.kind) ?? 0) + 1);
    }
    out.sessions = sessions.size;
  } finally {
    dbs.closeAll();
  }
  out.tokens.total = out.tokens.input + out.tokens.output + out.tokens.cacheRead + out.tokens.cacheWrite;
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe("corpus generator, small-events profile", () => {
  for (const format of ["legacy", "sqlite"] as CorpusFormat[]) {
    it(`${format}: the generator's tally is what core reads`, () => {
      const tmp = tmpDir("corpus-");
      const home = path.join(tmp, format);
      const totals = generateCorpus(home, { format, profile: "small-events", targetBytes: 6 * MiB, seed: 41, sessions: 36, agents: 3, ddl: AGENT_DB_DDL });
      const read = readHome(home);
      assert.equal(read.sessions, totals.sessions);
      assert.equal(read.llmCalls, totals.llmCalls);
      assert.equal(read.toolCalls, totals.toolCalls);
      assert.deepEqual(read.tokens, totals.tokens);
      assert.equal(read.recordedCostNanos, totals.recordedCostNanos);
      // A damaged session ends in three bad lines: cut-off JSON, a blank line, an unknown event type.
      const bad = (read.problems.get("invalid-json") ?? 0) + (read.problems.get("blank-line") ?? 0) + (read.problems.get("unknown-event-type") ?? 0);
      assert.equal(bad, totals.badLines);
      assert.equal(read.events, totals.events + totals.badLines / 3, "every event written is read (plus the unknown-type bad lines, kept as events)");

      // The shape: many small events (~3 KB; large-events ~12 KB), a few large tool results, twelve models.
      assert.ok(totals.rawBytes / totals.events < 6000, `mean event ${(totals.rawBytes / totals.events).toFixed(0)} B`);
      const largeShare = read.largeToolResults / read.toolResults;
      assert.ok(largeShare > 0.03 && largeShare < 0.12, `large tool results: ${(largeShare * 100).toFixed(1)} %`);
      assert.ok(read.models.size > 7 && read.models.size <= 12, `models: ${[...read.models].join(", ")}`);
      assert.ok(totals.storeBytes >= 6 * MiB && totals.storeBytes < 8 * MiB, `${totals.storeBytes} B on disk`);
    });
  }

  it("text is cut between characters: no lone surrogate is written", () => {
    const tmp = tmpDir("corpus-");
    generateCorpus(tmp, { format: "legacy", profile: "small-events", targetBytes: 6 * MiB, seed: 41, sessions: 36, agents: 3 });
    for (const file of walk(path.join(tmp, "agents"))) {
      // JSON.stringify writes a whole pair as the character itself and only a lone half as an escape.
      assert.doesNotMatch(fs.readFileSync(file, "utf8"), /\\ud[89a-f][0-9a-f]{2}/i, file);
    }
  });
});

describe("corpus generator, large-events profile", () => {
  it("writes the same transcripts as always (cached bench corpora and their totals stay valid)", () => {
    const tmp = tmpDir("corpus-");
    const totals = generateCorpus(tmp, { format: "legacy", targetBytes: 6 * MiB, seed: 20261122, sessions: 40, agents: 8 });
    const hash = crypto.createHash("sha256");
    for (const file of walk(path.join(tmp, "agents")).sort()) hash.update(path.relative(tmp, file)).update(fs.readFileSync(file));
    // Taken from the generator before the small-events profile was added.
    assert.equal(hash.digest("hex"), LARGE_EVENTS_DIGEST);
    assert.equal(readHome(tmp).llmCalls, totals.llmCalls);
  });
});

const LARGE_EVENTS_DIGEST = "d421253d18abe13d815f12c602d9599ffe89aad78836cfcc108322781a18e2e5";
