/**
 * A real hub process (`clawtower serve`) for tests and benches that need to kill it, restart it, or measure it
 * from outside: spawned from the checkout's CLI, on loopback, with its own throwaway CLAWTOWER_HOME.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort } from "./openclaw-host.ts";
import { tmpDir } from "./tmp.ts";

export const CLAWTOWER_BIN = path.resolve(import.meta.dirname, "../../cli/bin/clawtower.js");

/** The `--db` argument for a store: its SQLite path, or its PostgreSQL URL with the schema as search_path. */
export function dbArgOf(o: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string; schema?: string | undefined }): string {
  if (o.kind === "sqlite") return o.path;
  return o.schema ? `${o.url}${o.url.includes("?") ? "&" : "?"}options=-c%20search_path%3D${o.schema}` : o.url;
}

export type HubProcess = { child: ChildProcess; port: number; url: string; output(): string };

export type HubProcessOptions = {
  /** What `--db` takes: a SQLite path or a postgres:// URL. */
  db: string;
  /** Default: a free port. Pass the previous one to restart a hub where its clients expect it. */
  port?: number;
  /** Another checkout's CLI (a bench baseline). */
  bin?: string;
};

/** Starts `clawtower serve --no-import` and resolves once it says it is serving; rejects if it exits first. */
export async function startHubProcess(o: HubProcessOptions): Promise<HubProcess> {
  const port = o.port ?? (await freePort());
  const child = spawn(process.execPath, [o.bin ?? CLAWTOWER_BIN, "serve", "--no-import", "--no-progress", "--db", o.db, "--port", String(port)], {
    env: { ...process.env, CLAWTOWER_HOME: tmpDir("ct-hub-home-") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("is serving")) resolve();
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code, signal) => reject(new Error(`hub exited before serving (${code ?? signal}): ${out}`)));
  });
  return { child, port, url: `http://127.0.0.1:${port}`, output: () => out };
}

/** SIGKILL, resolved once the process is gone (a no-op if it already is). */
export async function killHubProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}
