/**
 * The command line's side of hub security: `clawtower token create` (a strong token in a 0600 file), `serve`
 * refusing a weak admin token and a token file others can read, `keys create --scope`.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

function env(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, CLAWTOWER_HOME: path.join(dir, "ct-home"), ...extra };
  delete e["CLAWTOWER_ADMIN_TOKEN"];
  delete e["CLAWTOWER_DATABASE_URL"];
  return { ...e, ...extra };
}

function run(args: string[], dir: string, extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: env(dir, extra), timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `clawtower serve`; resolves with its stderr once it serves, or with its exit code if it stops first. */
function serve(args: string[], dir: string, extra: Record<string, string> = {}): Promise<{ served: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "serve", "--no-import", "--port", "0", "--db", path.join(dir, "ct.db"), "--openclaw-home", path.join(dir, "none"), ...args], { env: env(dir, extra) });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d) => {
      stdout += d;
      if (stdout.includes("Clawtower is serving")) child.kill("SIGTERM");
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ served: stdout.includes("Clawtower is serving"), code, stderr });
    });
  });
}

describe("clawtower token create", () => {
  it("writes a strong random token to a file only its owner can read, and never overwrites one by accident", () => {
    const dir = tmpDir();
    const file = path.join(dir, "secrets", "admin-token");
    const first = run(["token", "create", "--file", file], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const token = fs.readFileSync(file, "utf8").trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
    assert.match(first.stderr, /--admin-token-file/);

    const again = run(["token", "create", "--file", file], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists.*--force/);
    assert.equal(fs.readFileSync(file, "utf8").trim(), token, "left as it was");

    const forced = run(["token", "create", "--file", file, "--force"], dir);
    assert.equal(forced.code, 0, forced.stderr);
    const replaced = fs.readFileSync(file, "utf8").trim();
    assert.notEqual(replaced, token);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["admin-token"], "no temporary file left behind");

    const byDefault = run(["token", "create"], dir);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.equal(byDefault.stdout.trim(), path.join(dir, "ct-home", "admin-token"));
    assert.equal(fs.statSync(byDefault.stdout.trim()).mode & 0o777, 0o600);
  });

  it("makes a token that `clawtower serve --admin-token-file` accepts", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "admin-token");
    assert.equal(run(["token", "create", "--file", file], dir).code, 0);
    const r = await serve(["--admin-token-file", file], dir);
    assert.ok(r.served, r.stderr);
  });
});

describe("clawtower serve: the admin token", () => {
  it("refuses a token file that group or others can read, saying what to chmod, unless told to accept it", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "admin-token");
    assert.equal(run(["token", "create", "--file", file], dir).code, 0);
    for (const [mode, who] of [[0o644, "every user"], [0o640, "its group"], [0o604, "every user"]] as const) {
      fs.chmodSync(file, mode);
      const r = await serve(["--admin-token-file", file], dir);
      assert.equal(r.served, false, `mode ${mode.toString(8)} was accepted`);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`chmod 600 ${file}`), r.stderr);
      assert.ok(r.stderr.includes(who), r.stderr);
    }
    fs.chmodSync(file, 0o644);
    const allowed = await serve(["--admin-token-file", file, "--allow-readable-token-file"], dir);
    assert.ok(allowed.served, allowed.stderr);
    assert.match(allowed.stderr, /warning: .*can be read by every user/);
  });

  it("refuses a low-entropy admin token, from the environment or a file, with how to make a good one", async () => {
    const dir = tmpDir();
    const weak = await serve([], dir, { CLAWTOWER_ADMIN_TOKEN: "aaaaaaaaaaaaaaaa" });
    assert.equal(weak.served, false);
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /too easy to guess.*clawtower token create/);
    const file = path.join(dir, "weak-token");
    fs.writeFileSync(file, "Password123!Password123!\n", { mode: 0o600 });
    const fromFile = await serve(["--admin-token-file", file], dir);
    assert.equal(fromFile.code, 2);
    assert.match(fromFile.stderr, /too easy to guess/);
  });
});

describe("clawtower keys create --scope", () => {
  it("makes ingest-only keys by default and read / admin keys when asked, refusing nonsense", () => {
    const dir = tmpDir();
    const db = path.join(dir, "keys.db");
    const create = (...args: string[]) => run(["keys", "create", "--db", db, "--json", ...args], dir);
    const plain = create("--deployment", "gw-1");
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(JSON.parse(plain.stdout).scopes, ["ingest"]);
    const reader = create("--deployment", "gw-2", "--scope", "read");
    assert.deepEqual([JSON.parse(reader.stdout).scopes, JSON.parse(reader.stdout).deploymentId], [["read"], "gw-2"]);
    assert.deepEqual(JSON.parse(create("--scope", "ingest,read", "--deployment", "gw-3").stdout).scopes, ["ingest", "read"]);
    assert.deepEqual(JSON.parse(create("--scope", "admin").stdout).scopes, ["admin"]);
    const bound = create("--scope", "admin", "--deployment", "gw-1");
    assert.equal(bound.code, 2);
    assert.match(bound.stderr, /admin key covers every deployment/);
    const bogus = create("--scope", "write");
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown scope "write"/);
    const told = run(["keys", "create", "--db", db, "--deployment", "gw-4"], dir);
    assert.match(told.stderr, /scope ingest\): ingests for deployment gw-4, reads nothing/);
    const list = run(["keys", "list", "--db", db], dir);
    assert.match(list.stdout, /scope=read deployment=gw-2/);
    assert.match(list.stdout, /scope=ingest deployment=gw-1/);
  });
});
