/**
 * `clawtower watch`: a zero-LLM daemon that polls an OpenClaw gateway's sessions over its WebSocket RPC and
 * pushes the changed ones to a Clawtower hub and/or an AgentWatch-compatible `POST /api/events/bulk`.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { loadOrCreateDeviceIdentity } from "../watch/device-identity.ts";
import { DEFAULT_KINDS } from "../watch/filters.ts";
import { DEFAULT_RETRY } from "../watch/push.ts";
import { SESSION_KINDS, type SessionKind } from "../watch/session-rows.ts";
import { createWatchLogger, WATCH_LOG_LEVELS, type WatchLogLevel } from "../watch/watch-log.ts";
import { Watcher, type SinkTarget } from "../watch/watcher.ts";

export type WatchFlags = {
  openclawUrl: string;
  tokenFile?: string;
  hubUrl?: string;
  apiKey?: string;
  apiKeyFile?: string;
  deployment?: string;
  agentwatchUrl?: string;
  pollInterval: string;
  batchSize: string;
  maxErrors: string;
  logLevel: string;
  once?: boolean;
  kinds?: string;
  includeCron?: boolean;
  activeMinutes: string;
  minTokens: string;
  stateFile?: string;
};

function positive(name: string, v: string, { integer = true, min = 1 } = {}): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new UsageError(`${name} must be ${integer ? "a whole number" : "a number"} ≥ ${min} (got "${v}")`);
  return n;
}

function readSecretFile(flag: string, file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!text) throw new UsageError(`${flag}: ${file} is empty`);
  return text;
}

function httpUrl(flag: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`${flag} must be a URL (got "${v}")`);
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(u.protocol)) throw new UsageError(`${flag} must be an http(s) URL (got "${v}")`);
  return u.toString();
}

export function parseKinds(kinds: string | undefined, includeCron: boolean): Set<SessionKind> {
  const list = kinds ? kinds.split(",").map((k) => k.trim()).filter(Boolean) : [...DEFAULT_KINDS];
  for (const k of list) if (!(SESSION_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds: unknown kind "${k}" (known: ${SESSION_KINDS.join(", ")})`);
  const set = new Set(list as SessionKind[]);
  if (includeCron) set.add("cron");
  return set;
}

export async function runWatch(flags: WatchFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const level = flags.logLevel.toUpperCase();
  if (!(WATCH_LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${WATCH_LOG_LEVELS.join(", ")} (got "${flags.logLevel}")`);
  const openclawUrl = httpUrl("--openclaw-url", flags.openclawUrl);
  const token = flags.tokenFile ? readSecretFile("--token-file", flags.tokenFile) : env["OPENCLAW_GATEWAY_TOKEN"]?.trim();
  if (!token) throw new UsageError("no gateway token: pass --token-file FILE or set OPENCLAW_GATEWAY_TOKEN");

  const sinks: SinkTarget[] = [];
  if (flags.hubUrl) {
    const apiKey = flags.apiKey ?? (flags.apiKeyFile ? readSecretFile("--api-key-file", flags.apiKeyFile) : env["CLAWTOWER_API_KEY"]?.trim());
    if (!apiKey) throw new UsageError("--hub-url needs an API key: --api-key-file FILE, CLAWTOWER_API_KEY, or --api-key (create one with `clawtower keys create --deployment ID`)");
    sinks.push({ kind: "hub", url: httpUrl("--hub-url", flags.hubUrl), apiKey, deploymentId: flags.deployment ?? null });
  }
  if (flags.agentwatchUrl) sinks.push({ kind: "agentwatch", url: httpUrl("--agentwatch-url", flags.agentwatchUrl), apiKey: env["AGENTWATCH_API_KEY"]?.trim() || null });
  if (sinks.length === 0) throw new UsageError("nothing to push to: pass --hub-url and/or --agentwatch-url");

  const clawtowerHome = env["CLAWTOWER_HOME"] ? path.resolve(env["CLAWTOWER_HOME"]) : path.join(os.homedir(), ".clawtower");
  const dir = path.join(clawtowerHome, "watch");
  const stateFile = flags.stateFile ? path.resolve(flags.stateFile) : path.join(dir, `state-${crypto.createHash("sha256").update(openclawUrl).digest("hex").slice(0, 12)}.json`);
  const log = createWatchLogger(level as WatchLogLevel);
  const watcher = new Watcher({
    openclawUrl,
    token,
    identity: loadOrCreateDeviceIdentity(path.join(dir, "device.json")),
    stateFile,
    pollIntervalMs: positive("--poll-interval", flags.pollInterval, { integer: false, min: 0.1 }) * 1000,
    batchSize: positive("--batch-size", flags.batchSize),
    maxErrors: positive("--max-errors", flags.maxErrors),
    once: flags.once === true,
    filters: { kinds: parseKinds(flags.kinds, flags.includeCron === true), activeMinutes: positive("--active-minutes", flags.activeMinutes, { integer: false, min: 0.1 }), minTokens: positive("--min-tokens", flags.minTokens, { min: 0 }) },
    sinks,
    retry: { ...DEFAULT_RETRY, attempts: positive("CLAWTOWER_WATCH_RETRIES", env["CLAWTOWER_WATCH_RETRIES"] ?? String(DEFAULT_RETRY.attempts)) },
    usageFreshWaitMs: 10_000,
    version: VERSION,
    log,
  });
  const onSignal = (sig: NodeJS.Signals) => {
    log.info(`${sig}: stopping after the poll in flight`);
    watcher.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await watcher.run();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
