/**
 * Finds an OpenClaw home and its agents. Precedence: `--openclaw-home DIR` > `OPENCLAW_STATE_DIR` > `~/.openclaw`.
 * Every directory under `agents/` is an agent; nothing is hard-coded.
 */
import fs from "node:fs";
import path from "node:path";

export type AgentLayout = {
  agentId: string;
  dir: string;
  /** `agents/<id>/agent/openclaw-agent.sqlite`, when present (OpenClaw ≥ 2026.7). */
  dbPath: string | null;
  /** `agents/<id>/sessions`, when present (legacy transcripts, archives, cold files). */
  sessionsDir: string | null;
  /** `agents/<id>/session-sqlite-import-archive`, where `doctor --fix` moved imported legacy files. */
  importArchiveDir: string | null;
};

export type HomeResolution = { home: string; from: "flag" | "env" | "default" };

export function resolveOpenClawHome(opts: { flag?: string | undefined; env: Record<string, string | undefined>; userHome: string }): HomeResolution {
  if (opts.flag) return { home: path.resolve(opts.flag), from: "flag" };
  const fromEnv = opts.env["OPENCLAW_STATE_DIR"];
  if (fromEnv) return { home: path.resolve(fromEnv), from: "env" };
  return { home: path.join(opts.userHome, ".openclaw"), from: "default" };
}

function existing(p: string, kind: "file" | "dir"): string | null {
  try {
    const st = fs.statSync(p);
    return (kind === "file" ? st.isFile() : st.isDirectory()) ? p : null;
  } catch {
    return null;
  }
}

export function listAgents(home: string): AgentLayout[] {
  const agentsDir = path.join(home, "agents");
  let names: string[];
  try {
    names = fs.readdirSync(agentsDir);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((agentId) => {
      const dir = path.join(agentsDir, agentId);
      return {
        agentId,
        dir,
        dbPath: existing(path.join(dir, "agent", "openclaw-agent.sqlite"), "file"),
        sessionsDir: existing(path.join(dir, "sessions"), "dir"),
        importArchiveDir: existing(path.join(dir, "session-sqlite-import-archive"), "dir"),
      };
    })
    .filter((a) => existing(a.dir, "dir") !== null);
}
