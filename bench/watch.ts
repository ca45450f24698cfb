/**
 * `node bench/watch.ts [--sessions 500]`: one `clawtower watch --once` poll over N sessions served by the loopback
 * fake gateway (packages/testkit/src/fake-gateway.ts, rows shaped like a real 2026.9.6 gateway's; it stands in
 * for scale only), pushing to a real hub on a fresh SQLite store. Reports the poll time the watcher logs and its
 * peak RSS (GNU time), for the first poll (every session sent) and the second (nothing changed). Targets: ≤ 1 s,
 * ≤ 60 MiB. `--bin FILE` measures another build of the CLI (the release bundle). Printed; RESULTS.md is edited by hand.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createPriceBook } from "@clawtower/core";
import { startHub } from "@clawtower/hub";
import { createApiKey, openStore } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { fakeGatewaySessions, startFakeGateway } from "@clawtower/testkit/fake-gateway";

const args = process.argv.slice(2);
const n = Number(args[args.indexOf("--sessions") + 1] ?? 500) || 500;
// --bin: another build of the CLI, e.g. the release bundle (dist/clawtower.js of `npm run release:pack`).
const binArg = args.indexOf("--bin");
const bin = binArg >= 0 ? path.resolve(args[binArg + 1]!) : path.resolve(import.meta.dirname, "../packages/cli/bin/clawtower.js");
const dir = tmpDir("ct-bench-watch-");
const gw = await startFakeGateway({ sessions: fakeGatewaySessions(n, Date.now()) });
const conn = await openStore({ kind: "sqlite", path: path.join(dir, "hub.db") });
const key = (await createApiKey(conn, { deploymentId: "bench" }, Date.now())).token;
const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {} });
const tokenFile = path.join(dir, "token");
fs.writeFileSync(tokenFile, gw.token, { mode: 0o600 });

async function poll(label: string) {
  // spawnSync would block this process's hub and fake gateway: run GNU time in a child and wait asynchronously.
  const child = spawn("/usr/bin/time", ["-f", "maxrss_kib=%M", process.execPath, bin, "watch", "--once", "--openclaw-url", gw.url, "--token-file", tokenFile, "--hub-url", hub.url, "--batch-size", "200"], {
    env: { ...process.env, CLAWTOWER_HOME: dir, CLAWTOWER_API_KEY: key },
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("close", r));
  const m = /Poll #1: (\d+) sessions → (\d+) events \(([\d.]+)s\)/.exec(err);
  const rss = Number(/maxrss_kib=(\d+)/.exec(err)?.[1] ?? NaN) / 1024;
  if (code !== 0 || !m) throw new Error(`watch failed (${code}): ${err}`);
  console.log(`${label}: ${m[1]} sessions → ${m[2]} events, poll ${Number(m[3]).toFixed(2)} s, peak RSS ${rss.toFixed(1)} MiB`);
}

try {
  await poll("first poll ");
  await poll("second poll");
} finally {
  await hub.close();
  await conn.close();
  await gw.close();
}
