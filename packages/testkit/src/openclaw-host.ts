/**
 * Drives the REAL OpenClaw host for integration tests and fixture generation.
 *
 * - `ensureOpenClaw(version)` installs `openclaw@<version>` once into `<repo>/.cache/openclaw-<version>/`
 *   with the repository's Node 24 first on PATH (OpenClaw's preinstall refuses Node 20).
 * - `createOpenClawHome(...)` writes a throwaway HOME whose `openclaw.json` points the default model at a
 *   loopback fake LLM (see `fake-llm.ts`) with known prices.
 * - `runAgentTurn(...)` runs one `openclaw agent --local` turn; `startGateway(...)` runs `openclaw gateway run`
 *   and exposes `call(method, params)` over `openclaw gateway call … --json`.
 *
 * Every child runs in its own process group and is killed as a group on timeout or stop, so a looping tool
 * call or a stuck Gateway never outlives a test.
 */
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";

export const DEFAULT_OPENCLAW_VERSION = "2026.9.6";

/** `<repo>`: this file lives at `<repo>/packages/testkit/src/openclaw-host.ts`. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

export type OpenClawInstall = {
  /** `<dir>/node_modules/openclaw/openclaw.mjs`; run it as `[nodeBin, bin, ...args]`. */
  bin: string;
  /** The repository's Node 24 binary (`<repo>/node_modules/node/bin/node`, resolved). */
  nodeBin: string;
  /** The install root, `<repo>/.cache/openclaw-<version>`. */
  dir: string;
  version: string;
};

export type ModelCost = { input: number; output: number; cacheRead: number; cacheWrite: number };

export type OpenClawHome = {
  /** The HOME directory. */
  home: string;
  /** `<home>/.openclaw`, OpenClaw's state dir. */
  stateDir: string;
  /** The environment every OpenClaw child of this home runs with (HOME, PATH with Node 24 first, …). */
  env: Record<string, string>;
  /** The model cost written to the config, USD per 1M tokens. */
  modelCost: ModelCost;
  /** The install the home is meant for (used by `runAgentTurn` and `startGateway`). */
  install: OpenClawInstall;
};

export type RunResult = {
  /** Process (and process-group) id of the child; the group is gone when the promise resolves. */
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
};

/** The prices the fixtures use: USD per 1M tokens, as in `models.providers.<p>.models[].cost`. */
export const DEFAULT_MODEL_COST: ModelCost = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

export function repoNodeBin(): string {
  const candidate = path.join(REPO_ROOT, "node_modules", ".bin", "node");
  if (!existsSync(candidate)) {
    throw new Error(`Node 24 not found at ${candidate}; run npm install at the repository root first`);
  }
  return realpathSync(candidate);
}

/** PATH with the repository's Node 24 first, so `#!/usr/bin/env node` scripts (npm, OpenClaw) run under it. */
export function pathWithNode24(nodeBin: string = repoNodeBin(), base: string = process.env.PATH ?? ""): string {
  return [path.dirname(nodeBin), base].filter(Boolean).join(path.delimiter);
}

function installPaths(dir: string): { bin: string; marker: string } {
  return {
    bin: path.join(dir, "node_modules", "openclaw", "openclaw.mjs"),
    marker: path.join(dir, ".clawtower-install-complete"),
  };
}

const inflight = new Map<string, Promise<OpenClawInstall>>();

/**
 * Installs `openclaw@<version>` into `<repo>/.cache/openclaw-<version>/` unless a complete install is there.
 * Concurrent callers (in this or other processes) each install into a private temp dir and atomically
 * rename it into place; the loser discards its copy. Only the npm registry is contacted.
 */
export function ensureOpenClaw(
  version: string = DEFAULT_OPENCLAW_VERSION,
  options: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<OpenClawInstall> {
  const cacheDir = options.cacheDir ?? path.join(REPO_ROOT, ".cache");
  const dir = path.join(cacheDir, `openclaw-${version}`);
  let pending = inflight.get(dir);
  if (!pending) {
    pending = installOpenClaw(version, dir, options.log);
    inflight.set(dir, pending);
    pending.catch(() => inflight.delete(dir));
  }
  return pending;
}

async function installOpenClaw(version: string, dir: string, log?: (line: string) => void): Promise<OpenClawInstall> {
  const nodeBin = repoNodeBin();
  const done = (): OpenClawInstall => ({ bin: installPaths(dir).bin, nodeBin, dir, version });
  if (existsSync(installPaths(dir).marker)) return done();

  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = await mkdtemp(`${dir}.tmp-${process.pid}-`);
  try {
    await writeFile(
      path.join(tmp, "package.json"),
      `${JSON.stringify(
        {
          name: `clawtower-openclaw-${version}`.replace(/[^a-z0-9._-]/gi, "-"),
          private: true,
          dependencies: { openclaw: version },
          allowScripts: { openclaw: true },
        },
        null,
        2,
      )}\n`,
    );
    // A project .npmrc stops the repo's or the user's settings from leaking in where they would matter.
    await writeFile(path.join(tmp, ".npmrc"), "fund=false\naudit=false\nengine-strict=false\nupdate-notifier=false\n");
    log?.(`installing openclaw@${version} into ${tmp}`);
    const npmCli = findNpmCli();
    const args = [...npmCli.prefix, "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=warn"];
    const result = await runProcess(npmCli.command, args, {
      cwd: tmp,
      env: { ...stringEnv(process.env), PATH: pathWithNode24(nodeBin), npm_config_update_notifier: "false" },
      timeoutMs: 15 * 60_000,
    });
    if (result.code !== 0) {
      throw new Error(`npm install openclaw@${version} failed (exit ${result.code}):\n${result.stderr.slice(-4000)}`);
    }
    if (!existsSync(installPaths(tmp).bin)) throw new Error(`npm install did not produce ${installPaths(tmp).bin}`);
    await writeFile(installPaths(tmp).marker, `${new Date().toISOString()}\n`);
    try {
      await rename(tmp, dir);
    } catch (error) {
      // Another installer finished first (the target exists and is not empty): use theirs.
      if (!existsSync(installPaths(dir).marker)) {
        // A leftover incomplete dir (no marker) from a crashed run: replace it.
        await rm(dir, { recursive: true, force: true });
        await rename(tmp, dir).catch((again: unknown) => {
          if (!existsSync(installPaths(dir).marker)) throw again ?? error;
        });
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return done();
}

/** npm as `node <npm-cli.js>` under Node 24 when we can find it, else the `npm` on PATH. */
function findNpmCli(): { command: string; prefix: string[] } {
  const nodeBin = repoNodeBin();
  const candidates = [
    path.join(path.dirname(nodeBin), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js"),
    path.join(REPO_ROOT, "node_modules", "npm", "bin", "npm-cli.js"),
    "/usr/lib/node_modules/npm/bin/npm-cli.js",
    "/usr/local/lib/node_modules/npm/bin/npm-cli.js",
  ];
  const found = candidates.find((c) => existsSync(c));
  return found ? { command: nodeBin, prefix: [found] } : { command: "npm", prefix: [] };
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") out[k] = v;
  return out;
}

export type CreateHomeOptions = {
  /** Directory to create (must not exist or be empty); becomes HOME. */
  dir: string;
  /** The fake LLM's OpenAI base URL, e.g. `http://127.0.0.1:PORT/v1`. */
  fakeLlmBaseUrl: string;
  modelCost?: ModelCost;
  /** Deep-merged over the generated config (objects merge, arrays and scalars replace). */
  extraConfig?: Record<string, unknown>;
  install?: OpenClawInstall;
  /** Extra environment for every OpenClaw child of this home. */
  env?: Record<string, string>;
};

export async function createOpenClawHome(options: CreateHomeOptions): Promise<OpenClawHome> {
  const install = options.install ?? (await ensureOpenClaw());
  const home = path.resolve(options.dir);
  const stateDir = path.join(home, ".openclaw");
  await mkdir(stateDir, { recursive: true });
  const modelCost = options.modelCost ?? DEFAULT_MODEL_COST;
  const baseUrl = new URL(options.fakeLlmBaseUrl);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(baseUrl.hostname)) {
    throw new Error(`fake LLM must be on loopback, got ${options.fakeLlmBaseUrl}`);
  }
  const config = deepMerge(
    {
      models: {
        mode: "merge",
        providers: {
          fake: {
            baseUrl: options.fakeLlmBaseUrl,
            apiKey: "fake-key",
            api: "openai-completions",
            models: [
              {
                id: "fake-model",
                name: "Fake Model",
                reasoning: false,
                input: ["text"],
                cost: modelCost,
                contextWindow: 128000,
                maxTokens: 4096,
              },
            ],
          },
        },
      },
      agents: { defaults: { model: { primary: "fake/fake-model" } } },
      update: { checkOnStart: false },
      // Keep the log inside the test home (the default is a shared /tmp/openclaw/openclaw-<date>.log).
      logging: { file: path.join(stateDir, "logs", "openclaw.log") },
    },
    options.extraConfig ?? {},
  );
  await writeFile(path.join(stateDir, "openclaw.json"), `${JSON.stringify(config, null, 2)}\n`);
  const env: Record<string, string> = {
    ...stringEnv(process.env),
    HOME: home,
    PATH: pathWithNode24(install.nodeBin),
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    // No update checks or telemetry requests from test hosts (also `update.checkOnStart: false` in the config).
    OPENCLAW_NO_AUTO_UPDATE: "1",
    ...options.env,
  };
  // Never let a developer's own OpenClaw settings leak into the test home.
  for (const k of ["OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PORT", "OPENCLAW_HOME", "OPENCLAW_PROFILE"]) {
    if (!options.env?.[k]) delete env[k];
  }
  return { home, stateDir, env, modelCost, install };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

export type RunProcessOptions = {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Called with every chunk of output (for progress logs). */
  onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
};

/** Spawns a detached process group; on timeout the whole group gets SIGTERM, then SIGKILL after 3 s. */
export function runProcess(command: string, args: string[], options: RunProcessOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      options.onOutput?.("stdout", c);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      options.onOutput?.("stderr", c);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(child.pid, "SIGTERM");
            killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 3000);
          }, options.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      // The leader is gone; make sure no grandchild of the group survives it.
      killGroup(child.pid, "SIGKILL");
      resolve({ pid: child.pid, code, signal, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs `openclaw <args>` for a home (Node 24, the home's env). */
export function runOpenClaw(home: OpenClawHome, args: string[], options: RunProcessOptions = {}): Promise<RunResult> {
  return runProcess(home.install.nodeBin, [home.install.bin, ...args], {
    cwd: options.cwd ?? home.home,
    ...options,
    env: { ...home.env, ...options.env },
  });
}

export type AgentTurnOptions = {
  agent?: string;
  /** `--session-key` (`agent:<id>:<key>`, or a key scoped to `--agent`). */
  sessionKey?: string;
  /** `--session-id`. */
  sessionId?: string;
  /** Kill the turn's process group after this long (default 120 s). */
  timeoutMs?: number;
  /** `--timeout <s>` passed to OpenClaw itself. */
  agentTimeoutSeconds?: number;
  json?: boolean;
  extraArgs?: string[];
  env?: Record<string, string>;
};

/** One embedded turn: `openclaw agent --local --message <message> --agent <agent> [--session-key|--session-id]`. */
export function runAgentTurn(home: OpenClawHome, message: string, options: AgentTurnOptions = {}): Promise<RunResult> {
  const args = ["agent", "--local", "--message", message, "--agent", options.agent ?? "main"];
  if (options.sessionKey) args.push("--session-key", options.sessionKey);
  if (options.sessionId) args.push("--session-id", options.sessionId);
  if (options.agentTimeoutSeconds) args.push("--timeout", String(options.agentTimeoutSeconds));
  if (options.json) args.push("--json");
  if (options.extraArgs) args.push(...options.extraArgs);
  return runOpenClaw(home, args, { timeoutMs: options.timeoutMs ?? 120_000, env: options.env });
}

export type GatewayOptions = {
  port?: number;
  token?: string;
  /** Give up waiting for readiness after this long (default 90 s). */
  readyTimeoutMs?: number;
  env?: Record<string, string>;
  extraArgs?: string[];
};

export type Gateway = {
  port: number;
  token: string;
  pid: number;
  /** Everything the Gateway printed so far. */
  output(): string;
  /** `openclaw gateway call <method> --params <json> --json`; resolves with the parsed JSON result. */
  call<T = unknown>(method: string, params?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T>;
  /** SIGTERM to the process group; SIGKILL after `graceMs` (default 10 s). Resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `openclaw gateway run --port P --bind loopback --auth token --token T --allow-unconfigured`, waited on until it answers `health`. */
/**
 * A free port is only free until the gateway binds it (~15 s after spawning): a test running beside this one may
 * take it meanwhile. Without a fixed port, a start that lost that race is retried on another one.
 */
export async function startGateway(home: OpenClawHome, options: GatewayOptions = {}): Promise<Gateway> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGatewayOnce(home, options);
    } catch (e) {
      if (options.port !== undefined || attempt >= 3 || !/EADDRINUSE/.test((e as Error).message)) throw e;
    }
  }
}

async function startGatewayOnce(home: OpenClawHome, options: GatewayOptions): Promise<Gateway> {
  const port = options.port ?? (await freePort());
  const token = options.token ?? `clawtower-test-${process.pid}-${port}`;
  const args = ["gateway", "run", "--port", String(port), "--bind", "loopback", "--auth", "token", "--token", token, "--allow-unconfigured"];
  if (options.extraArgs) args.push(...options.extraArgs);
  const child = spawn(home.install.nodeBin, [home.install.bin, ...args], {
    cwd: home.home,
    env: { ...home.env, ...options.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let alive = true;
  void exited.then(() => (alive = false));
  const pid = child.pid;
  if (!pid) throw new Error("gateway did not start");

  const call = async <T>(method: string, params: Record<string, unknown> = {}, callOptions: { timeoutMs?: number } = {}): Promise<T> => {
    const timeoutMs = callOptions.timeoutMs ?? 60_000;
    const result = await runOpenClaw(
      home,
      // `--url` rather than `--port`: 2026.7.x `gateway call` has no `--port`; both accept `--url` + `--token`.
      ["gateway", "call", method, "--url", `ws://127.0.0.1:${port}`, "--token", token, "--json", "--timeout", String(timeoutMs), "--params", JSON.stringify(params)],
      { timeoutMs: timeoutMs + 30_000, env: options.env },
    );
    if (result.code !== 0) {
      throw new Error(`gateway call ${method} failed (exit ${result.code}${result.timedOut ? ", timed out" : ""}): ${result.stderr.trim() || result.stdout.trim()}`);
    }
    return parseJsonOutput(result.stdout) as T;
  };

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (!alive) return;
    killGroup(pid, "SIGTERM");
    const t = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
    killGroup(pid, "SIGKILL");
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  try {
    for (;;) {
      if (!alive) throw new Error(`gateway exited before it was ready:\n${out.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`gateway not ready after ${options.readyTimeoutMs ?? 90_000} ms:\n${out.slice(-4000)}`);
      if (await portAnswers(port)) {
        try {
          await call("health", {}, { timeoutMs: 10_000 });
          break;
        } catch {
          // listening but not serving RPC yet
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (error) {
    await stop(2000);
    throw error;
  }
  return { port, token, pid, output: () => out, call, stop };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** `--json` output may be preceded by log lines; take the last top-level JSON value. */
export function parseJsonOutput(stdout: string): unknown {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    for (let i = text.length - 1; i >= 0; i--) {
      const ch = text[i];
      if ((ch === "{" || ch === "[") && (i === 0 || text[i - 1] === "\n")) {
        try {
          return JSON.parse(text.slice(i));
        } catch {
          // keep looking
        }
      }
    }
    throw new Error(`no JSON in output: ${text.slice(0, 2000)}`);
  }
}
