/**
 * The real Influxion plugin (influxion/openclaw-influxion b03e705) uploads every `agents/<id>/sessions/*.jsonl`
 * — `<id>.trajectory.jsonl` runtime sidecars included, as sessions named `<id>.trajectory` (issue 16 A7). The
 * checked-in OpenClaw 2026.7.35 home is replayed here through uploads built exactly as its collector and
 * uploader build them (one request per file, one envelope per non-empty line); the hub must count the home's
 * real sessions only, with the figures of the fixture's expected.json. Real hub over HTTP, SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { storeTargets } from "@clawtower/testkit";
import { startHub, type RunningHub } from "../src/index.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const FIXTURE = path.resolve(import.meta.dirname, "../../testkit/fixtures/openclaw-legacy-2026.7.35");
const STATE = path.join(FIXTURE, "state");

type ExpectedSession = { agentId: string; sessionId: string | null; storage: string; input: number; output: number; cacheRead: number; cacheWrite: number; costUsd: number };
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, "expected.json"), "utf8")) as { sessions: ExpectedSession[] };

/** The collector's files, as `collectEligibleSessions` picks them with the default filter (minBytes 512, minMessages 2) and an empty ledger. */
function collectEligibleSessions(stateDir: string) {
  const out: { agentId: string; sessionId: string; filePath: string; ledgerKey: string }[] = [];
  for (const agentId of fs.readdirSync(path.join(stateDir, "agents"))) {
    const dir = path.join(stateDir, "agents", agentId, "sessions");
    if (!fs.existsSync(dir)) continue;
    for (const filename of fs.readdirSync(dir)) {
      if (!filename.endsWith(".jsonl")) continue;
      const filePath = path.join(dir, filename);
      if (fs.statSync(filePath).size < 512) continue;
      if (fs.readFileSync(filePath, "utf8").split("\n").filter((l) => l.trim()).length < 2) continue;
      out.push({ agentId, sessionId: filename.slice(0, -".jsonl".length), filePath, ledgerKey: `agents/${agentId}/sessions/${filename}` });
    }
  }
  return out;
}

/** The request body `uploadFileWithRetry` sends for one file. */
function uploadBody(file: ReturnType<typeof collectEligibleSessions>[number]) {
  const lines = fs.readFileSync(file.filePath, "utf8").split("\n").filter((l) => l.trim());
  const capturedAt = new Date().toISOString();
  return {
    lines: lines.map((rawLine, i) => {
      let payload: unknown;
      try {
        payload = JSON.parse(rawLine);
      } catch {
        payload = { raw: rawLine };
      }
      return { deploymentId: "gw-influxion", projectId: "00000000-0000-0000-0000-000000000000", agentId: file.agentId, agentName: file.agentId, sessionId: file.sessionId, sessionFile: file.ledgerKey, lineIndex: i, capturedAt, payload };
    }),
  };
}

for (const target of targets) {
  describe(`[${target.name}] Influxion uploads of a real OpenClaw 2026.7.35 home`, () => {
    let conn: StoreConnection;
    let hub: RunningHub;
    let key: string;
    before(async () => {
      conn = await openStore(target.options());
      key = (await createApiKey(conn, { deploymentId: "gw-influxion" }, Date.now())).token;
      const cfg = readConfigPrices(STATE, listAgents(STATE).map((a) => a.dir));
      hub = await startHub({ conn, prices: createPriceBook(cfg.prices, loadBundledPrices().prices), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {} });
    });
    after(async () => {
      await hub.close();
      await conn.close();
    });
    const get = async (p: string) => (await (await fetch(`${hub.url}${p}`)).json()) as any;

    it("counts the home's sessions once and its trajectory sidecar not at all", async () => {
      const files = collectEligibleSessions(STATE);
      assert.ok(files.some((f) => f.sessionId.endsWith(".trajectory")), "the collector picks up the trajectory sidecar, as upstream does");
      const answers: { file: string; lines: number; answer: { accepted: number; rejected: number; ignored: number; warnings?: string[] } }[] = [];
      for (const file of files) {
        const body = uploadBody(file);
        const r = await fetch(`${hub.url}/v1/openclaw/ingest/sessions`, { method: "POST", body: JSON.stringify(body), headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } });
        assert.equal(r.status, 200, file.ledgerKey);
        answers.push({ file: file.ledgerKey, lines: body.lines.length, answer: (await r.json()) as any });
      }
      // The collector uploads live transcripts only (`*.jsonl`): the home's sessions that are not reset or deleted archives.
      const live = expected.sessions.filter((s) => s.storage === "hot");
      const listed = (await get("/api/v1/sessions?deployment=gw-influxion&limit=500")).sessions as { sessionId: string }[];
      assert.equal(listed.length, live.length);
      assert.ok(listed.every((s) => !s.sessionId.endsWith(".trajectory")));
      const known = live.map((s) => s.sessionId).filter((id): id is string => id !== null);
      for (const id of known) assert.ok(listed.some((s) => s.sessionId === id), `session ${id} is listed`);

      const totals = (await get("/api/v1/reports/summary?deployment=gw-influxion")).totals;
      const sum = (k: "input" | "output" | "cacheRead" | "cacheWrite") => live.reduce((a, s) => a + s[k], 0);
      assert.deepEqual(totals.tokens, { input: sum("input"), output: sum("output"), cacheRead: sum("cacheRead"), cacheWrite: sum("cacheWrite"), total: sum("input") + sum("output") + sum("cacheRead") + sum("cacheWrite") });
      assert.ok(Math.abs(totals.cost.total - live.reduce((a, s) => a + s.costUsd, 0)) < 1e-9, "cost as expected.json says");
      assert.equal(totals.sessions, live.length);

      for (const { file, lines, answer } of answers) {
        assert.equal(answer.accepted + answer.rejected, lines, `${file}: every line answered`);
        if (file.endsWith(".trajectory.jsonl")) {
          assert.equal(answer.ignored, lines, "every line of the sidecar is ignored");
          assert.match(answer.warnings?.[0] ?? "", /trajectory sidecar ignored/);
        } else {
          assert.equal(answer.ignored, 0);
        }
      }
    });

    it("recognises a sidecar line by its session id suffix or its trace schema when sessionFile is missing", async () => {
      const line = (sessionId: string, payload: unknown, lineIndex: number) => ({ deploymentId: "gw-influxion", projectId: "p", agentId: "main", sessionId, lineIndex, payload });
      const trace = { traceSchema: "openclaw-trajectory", schemaVersion: 1, type: "model.completed", ts: "2026-11-22T19:30:53.259Z", sessionId: "abc", data: { usage: { input: 7111, output: 6 } } };
      const r = await fetch(`${hub.url}/v1/openclaw/ingest/sessions`, {
        method: "POST",
        body: JSON.stringify({ lines: [line("abc.trajectory", { type: "session", id: "x", timestamp: "2026-11-22T19:30:52.802Z" }, 0), line("abc", trace, 1)] }),
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      });
      const answer = (await r.json()) as { accepted: number; ignored: number };
      const listed = (await get("/api/v1/sessions?deployment=gw-influxion&limit=500")).sessions as { sessionId: string }[];
      assert.deepEqual(listed.filter((s) => s.sessionId.startsWith("abc")), [], "neither line made a session");
      assert.deepEqual([answer.accepted, answer.ignored], [2, 2]);
    });
  });
}
