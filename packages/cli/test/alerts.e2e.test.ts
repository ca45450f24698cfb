/**
 * Alerts end to end: a rule added with `clawtower alerts add`, a real `clawtower serve` process, data through the
 * real ingest API, a loopback webhook receiver. The receiver gets exactly one grouped notice (HMAC verified) within
 * 5 s of the data that fires the rule, one resolved notice after the data that resolves it, nothing again after the
 * hub is killed and restarted, and a sample from `clawtower alerts test`.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createApiKey, openStore } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { CLAWTOWER_BIN, killHubProcess, startHubProcess, type HubProcess } from "@clawtower/testkit/hub-process";
import { sessionLines, startWebhookReceiver } from "@clawtower/testkit/webhook-receiver";
import { verifyNotice } from "@clawtower/hub";

/** The CLI without blocking this process (which serves the receiver the CLI may be sending to). */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLAWTOWER_BIN, ...args], { env: { ...process.env, CLAWTOWER_HOME: tmpDir("ct-alerts-home-") } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("close", (status) => resolve({ status, stdout, stderr })));
}

const cli = (args: string[]) => spawnSync(process.execPath, [CLAWTOWER_BIN, ...args], { encoding: "utf8", env: { ...process.env, CLAWTOWER_HOME: tmpDir("ct-alerts-home-") } });

describe("alerts end to end (real hub process)", () => {
  const db = path.join(tmpDir("ct-alerts-e2e-"), "clawtower.db");
  let hub: HubProcess | null = null;
  after(async () => {
    if (hub) await killHubProcess(hub.child);
  });

  it("fires one signed notice ≤ 5 s after the data, one resolved notice, nothing re-sent after a restart", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const secret = "e2e-secret-0123456789abcdef";
      const added = cli(["alerts", "add", "--db", db, "--name", "errors", "--kind", "error-rate", "--above", "0.5", "--min-calls", "3", "--window-minutes", "30", "--severity", "critical",
        "--notify", `webhook:${receiver.url}`, "--secret", secret, "--group-wait", "200ms", "--group-interval", "300ms"]);
      assert.equal(added.status, 0, added.stderr);
      assert.match(added.stdout, /added errors \(rule_[0-9a-f]+\): critical, LLM error rate over 30 min > 0.5/);
      const conn = await openStore({ kind: "sqlite", path: db });
      const key = (await createApiKey(conn, { deploymentId: "gw-e2e" }, Date.now())).token;
      await conn.close();
      process.env["CLAWTOWER_ALERT_TICK_MS"] = "200";
      hub = await startHubProcess({ db });
      const ingest = async (body: string) => {
        const r = await fetch(`${hub!.url}/api/v1/ingest/events`, { method: "POST", body, headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });
        assert.equal(r.status, 200, await r.text());
      };

      const sent = Date.now();
      await ingest(sessionLines("bad", [0.01, 0.01, 0.01, 0.01], { errors: 3 }));
      const [fired] = await receiver.waitFor(1, 5_000);
      assert.ok(fired!.at - sent <= 5_000, `notified after ${fired!.at - sent} ms`);
      const headers = { signature: String(fired!.headers["x-clawtower-signature"]), timestamp: String(fired!.headers["x-clawtower-timestamp"]) };
      assert.ok(verifyNotice(secret, headers, fired!.body, Date.now()), "HMAC-SHA256 over timestamp.body with the channel's secret");
      const notice = JSON.parse(fired!.body);
      assert.equal(notice.status, "firing");
      assert.deepEqual(notice.alerts.map((a: { labels: Record<string, string> }) => a.labels), [{ calls: "4", errors: "3" }]);

      await ingest(sessionLines("good", [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]));
      const [, resolved] = await receiver.waitFor(2, 5_000);
      assert.equal(JSON.parse(resolved!.body).status, "resolved");
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(receiver.received.length, 2, "exactly one firing and one resolved notice");

      const port = hub.port;
      await killHubProcess(hub.child);
      hub = await startHubProcess({ db, port });
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(receiver.received.length, 2, "a restarted hub re-sends nothing");

      const listed = cli(["alerts", "list", "--db", db]);
      assert.match(listed.stdout, /errors .* firing=0 pending=0/);
      assert.match(listed.stdout, /→ webhook http:\/\/127\.0\.0\.1:\d+ {2}ok/);
      const history = JSON.parse(cli(["alerts", "history", "--db", db, "errors", "--json"]).stdout);
      assert.deepEqual(history.events.map((e: { from: string | null; to: string }) => `${e.from}→${e.to}`), ["firing→resolved", "null→firing"]);

      const test = await cliAsync(["alerts", "test", "--db", db, "errors"]);
      assert.equal(test.status, 0, test.stderr);
      const [, , sample] = await receiver.waitFor(3, 5_000);
      assert.equal(JSON.parse(sample!.body).test, true);
    } finally {
      delete process.env["CLAWTOWER_ALERT_TICK_MS"];
      await receiver.close();
    }
  });

  it("refuses a bad rule with the field and exit code 2", () => {
    const r = cli(["alerts", "add", "--db", db, "--name", "bad", "--kind", "window-spend", "--window", "week", "--above", "1"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /condition\.window/);
  });
});
