/**
 * `clawtower serve` as a service: a stop signal drains what is in flight and exits 0, the launcher started by
 * an older Node passes signals on to the Node 24 it re-ran itself with, `--log-format json` writes one JSON
 * object per line, and `--version` / `/api/v1/info` name the release and the store schema version.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createApiKey, MIGRATIONS, openStore } from "@clawtower/store";
import { storeTargets, tmpDir } from "@clawtower/testkit";
import { dbArgOf } from "@clawtower/testkit/hub-process";
import { freePort } from "@clawtower/testkit/openclaw-host";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");
const PKG_VERSION = (JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../package.json"), "utf8")) as { version: string }).version;
const LAST_MIGRATION = Math.max(...MIGRATIONS.map((m) => m.version));
const SYSTEM_NODE = "/usr/bin/node";

type LogLine = { time: string; level: string; event: string; msg: string; [k: string]: unknown };

/** A `clawtower serve` process whose stdout is collected as it comes. */
function startServe(
  args: string[],
  node = process.execPath,
  opts: { detached?: boolean } = {},
): { child: ChildProcess; stdout: () => string; stderr: () => string; waitFor: (re: RegExp) => Promise<void> } {
  const child = spawn(node, [BIN, "serve", "--no-progress", ...args], {
    env: { ...process.env, CLAWTOWER_HOME: tmpDir("ct-serve-home-") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached ?? false,
  });
  let out = "";
  let err = "";
  let waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const met = waiters.filter((w) => w.re.test(out));
    waiters = waiters.filter((w) => !met.includes(w));
    for (const w of met) w.resolve();
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(out)) return resolve();
      waiters.push({ re, resolve });
      child.once("exit", (code) => reject(new Error(`serve exited (${code}) before ${re}: ${out}\n${err}`)));
    });
  return { child, stdout: () => out, stderr: () => err, waitFor };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Direct children of a process, from /proc. */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
        const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function jsonLines(text: string): LogLine[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const v = JSON.parse(l) as LogLine;
      assert.equal(typeof v.time, "string", l);
      assert.ok(!Number.isNaN(Date.parse(v.time)), l);
      assert.ok(["info", "warn", "error"].includes(v.level), l);
      assert.equal(typeof v.event, "string", l);
      assert.equal(typeof v.msg, "string", l);
      return v;
    });
}

const systemNodeIsOld = (() => {
  if (!fs.existsSync(SYSTEM_NODE)) return false;
  const [major, minor] = spawnSync(SYSTEM_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim().split(".").map(Number);
  return major! < 24 || (major === 24 && minor! < 16);
})();

describe("clawtower --version", () => {
  it("names the release and the store schema version", () => {
    const r = spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${PKG_VERSION} (store schema ${LAST_MIGRATION})`);
  });
});

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

for (const target of targets) {
  describe(`[${target.name}] /api/v1/info`, () => {
    it("names the release, the store's dialect and the schema version the store is at", { timeout: 60_000 }, async () => {
      const options = target.options();
      await (await openStore(options)).close();
      const port = await freePort();
      const serve = startServe(["--no-import", "--db", dbArgOf(options), "--port", String(port)]);
      try {
        await serve.waitFor(/is serving/);
        const info = (await (await fetch(`http://127.0.0.1:${port}/api/v1/info`)).json()) as { version: string; store: unknown };
        assert.equal(info.version, PKG_VERSION);
        assert.deepEqual(info.store, { dialect: target.name, schemaVersion: LAST_MIGRATION });
        serve.child.kill("SIGTERM");
        assert.deepEqual(await exited(serve.child), { code: 0, signal: null });
      } finally {
        serve.child.kill("SIGKILL");
      }
    });
  });
}

describe("launcher under an older Node", { skip: !systemNodeIsOld && `${SYSTEM_NODE} is missing or already Node >= 24.16` }, () => {
  it("passes SIGTERM on to the Node 24 child: the port closes, no child survives, the exit code is the child's", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const serve = startServe(["--demo", "--port", String(port)], SYSTEM_NODE);
    let child: number | undefined;
    try {
      await serve.waitFor(/is serving/);
      [child] = childrenOf(serve.child.pid!);
      assert.ok(child, "the launcher re-ran itself as a child");
      assert.ok(await portOpen(port));
      serve.child.kill("SIGTERM");
      const end = await exited(serve.child);
      assert.deepEqual(end, { code: 0, signal: null }, serve.stderr());
      assert.equal(alive(child), false, `the Node 24 child ${child} is still running`);
      assert.equal(await portOpen(port), false, `port ${port} still answers`);
      assert.match(serve.stderr(), /SIGTERM: finishing requests in flight/);
    } finally {
      if (child && alive(child)) process.kill(child, "SIGKILL");
      serve.child.kill("SIGKILL");
    }
  });

  it("Ctrl-C in a terminal (SIGINT to the launcher and the child alike) still drains and exits 0", { timeout: 60_000 }, async () => {
    // The terminal signals the whole foreground process group; the launcher forwards its copy as well, so
    // the child gets SIGINT twice and must not let the second one cut its shutdown short.
    const port = await freePort();
    const serve = startServe(["--demo", "--port", String(port)], SYSTEM_NODE, { detached: true });
    let child: number | undefined;
    try {
      await serve.waitFor(/is serving/);
      [child] = childrenOf(serve.child.pid!);
      process.kill(-serve.child.pid!, "SIGINT");
      assert.deepEqual(await exited(serve.child), { code: 0, signal: null }, serve.stderr());
      assert.equal(alive(child!), false);
      assert.equal(await portOpen(port), false);
    } finally {
      if (child && alive(child)) process.kill(child, "SIGKILL");
      serve.child.kill("SIGKILL");
    }
  });

  it("a signal the child dies of ends the launcher with that signal", { timeout: 60_000 }, async () => {
    // serve has no handler for SIGHUP: the child dies of it, and so must the launcher (a shell or a
    // supervisor then sees what really happened).
    const port = await freePort();
    const serve = startServe(["--demo", "--port", String(port)], SYSTEM_NODE);
    let child: number | undefined;
    try {
      await serve.waitFor(/is serving/);
      [child] = childrenOf(serve.child.pid!);
      serve.child.kill("SIGHUP");
      const end = await exited(serve.child);
      assert.deepEqual(end, { code: null, signal: "SIGHUP" });
      assert.equal(alive(child!), false);
      assert.equal(await portOpen(port), false);
    } finally {
      if (child && alive(child)) process.kill(child, "SIGKILL");
      serve.child.kill("SIGKILL");
    }
  });
});

describe("serve stops on SIGTERM after answering what is in flight", () => {
  it("a large ingest sent across the signal is answered, committed, and the exit code is 0; logs are JSON lines", { timeout: 120_000 }, async () => {
    const dir = tmpDir("ct-drain-");
    const db = path.join(dir, "hub.db");
    const conn = await openStore({ kind: "sqlite", path: db });
    const key = (await createApiKey(conn, { deploymentId: "gw-drain" }, Date.now())).token;
    await conn.close();

    const LINES = 20_000;
    let wantInput = 0;
    const lines: string[] = [];
    for (let i = 0; i < LINES; i++) {
      const input = 10 + (i % 113);
      wantInput += input;
      lines.push(
        JSON.stringify({
          agentId: "main",
          sessionId: `s-${i % 40}`,
          event: {
            type: "message",
            id: `ev-${i}`,
            timestamp: new Date(Date.UTC(2026, 10, 20) + i * 1000).toISOString(),
            message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", usage: { input, output: 2, cacheRead: 0, cacheWrite: 0, cost: { total: 0.001 } } },
          },
        }),
      );
    }
    const body = Buffer.from(`${lines.join("\n")}\n`);

    const port = await freePort();
    const serve = startServe(["--no-import", "--db", db, "--port", String(port), "--log-format", "json"]);
    try {
      await serve.waitFor(/"event":"serving"/);
      const info = (await (await fetch(`http://127.0.0.1:${port}/api/v1/info`)).json()) as { version: string; store: { dialect: string; schemaVersion: number } };
      assert.equal(info.version, PKG_VERSION);
      assert.deepEqual(info.store, { dialect: "sqlite", schemaVersion: LAST_MIGRATION });

      // Half the body, then the signal, then the rest: the request is in flight when the hub is told to stop.
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/api/v1/ingest/events", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson", "content-length": body.length } });
      const answer = new Promise<{ status: number; json: { accepted: number; rejected: number } }>((resolve, reject) => {
        req.on("response", (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        });
        req.on("error", reject);
      });
      req.write(body.subarray(0, body.length >> 1));
      await new Promise((r) => setTimeout(r, 300));
      serve.child.kill("SIGTERM");
      await serve.waitFor(/"event":"shutdown"/);
      assert.equal(await portOpen(port), false, "no new connections while draining");
      req.end(body.subarray(body.length >> 1));

      const got = await answer;
      assert.equal(got.status, 200, JSON.stringify(got.json));
      assert.equal(got.json.accepted, LINES);
      assert.equal(got.json.rejected, 0);
      assert.deepEqual(await exited(serve.child), { code: 0, signal: null }, serve.stderr());
    } finally {
      serve.child.kill("SIGKILL");
    }

    const log = jsonLines(serve.stdout());
    const events = log.map((l) => l.event);
    assert.ok(events.indexOf("serving") < events.indexOf("shutdown") && events.indexOf("shutdown") < events.indexOf("stopped"), events.join(","));
    const serving = log.find((l) => l.event === "serving")!;
    assert.equal(serving["url"], `http://127.0.0.1:${port}`);
    assert.equal(serving["version"], PKG_VERSION);
    assert.equal(serving["schemaVersion"], LAST_MIGRATION);
    assert.equal(log.find((l) => l.event === "shutdown")!["signal"], "SIGTERM");
    assert.equal(serve.stderr(), "", "--log-format json writes nothing else");

    const after = await openStore({ kind: "sqlite", path: db });
    try {
      const row = await after.db.selectFrom("llm_calls").select((eb) => [eb.fn.countAll<number>().as("calls"), eb.fn.sum<number>("input_tokens").as("input")]).executeTakeFirstOrThrow();
      assert.equal(Number(row.calls), LINES);
      assert.equal(Number(row.input), wantInput);
    } finally {
      await after.close();
    }
  });

  it("logs a failure to start as a JSON line too", async () => {
    const port = await freePort();
    const blocker = net.createServer().listen(port, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    try {
      const r = spawnSync(process.execPath, [BIN, "serve", "--no-import", "--log-format", "json", "--port", String(port), "--db", path.join(tmpDir("ct-fatal-"), "x.db")], { encoding: "utf8", env: { ...process.env, CLAWTOWER_HOME: tmpDir("ct-fatal-home-") } });
      assert.equal(r.status, 2, r.stderr);
      const fatal = jsonLines(r.stdout).find((l) => l.event === "fatal");
      assert.ok(fatal, r.stdout);
      assert.equal(fatal.level, "error");
      assert.match(fatal.msg, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it("refuses an unknown --log-format as bad usage", () => {
    const r = spawnSync(process.execPath, [BIN, "serve", "--no-import", "--log-format", "yaml", "--db", path.join(tmpDir("ct-logfmt-"), "x.db")], { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--log-format must be plain or json \(got "yaml"\)/);
  });
});
