/**
 * Each agent's skills inventory, from the latest session's skills snapshot (what OpenClaw resolved as
 * available), to `POST /v1/openclaw/ingest/skills` with `fullSync: true` so the hub marks skills that
 * disappeared as unavailable. SKILL.md content is read from the snapshot's locations when readable and
 * sent only when its hash differs from what the hub has (privacy "metadata" sends hashes only). Nothing is
 * sent when the inventory is unchanged.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { latestDbSkillsSnapshot, latestLegacySkillsSnapshot, type DbHandles, type HomeListing, type ListedDatabase } from "@clawtower/core";
import type { AgentSkillsState } from "../state/ship-state.ts";
import type { ShipContext, StopReason } from "./context.ts";

/** Larger SKILL.md files are listed with their hash but not uploaded. */
const MAX_SKILL_BYTES = 512 * 1024;

export type SkillUpload = {
  agentId: string;
  body: string;
  /** Applied to the state once the hub acknowledged the upload. */
  commit(): void;
  skills: number;
  contents: number;
};

export function skillSource(location: string | null): string | null {
  if (!location) return null;
  const p = location.split(path.sep).join("/");
  if (p.includes("/node_modules/openclaw/skills/")) return "bundled";
  if (p.includes("/plugin-skills/")) return "plugin";
  if (p.includes("/workspace")) return "workspace";
  if (p.includes("/.agents/skills/")) return "personal";
  return "managed";
}

function emptyAgentState(): AgentSkillsState {
  return { manifestHash: null, sent: {}, snapshotAt: null, snapshot: [], files: {} };
}

function statKey(st: fs.Stats): string {
  return `${st.size}:${st.mtimeMs}`;
}

/** Refreshes the agent's snapshot from its database (only when the database changed) or sessions.json. */
function refreshSnapshot(s: AgentSkillsState, db: ListedDatabase | undefined, sessionsJson: string | null, dbs: DbHandles): void {
  if (db && db.status !== "unreadable") {
    const at = JSON.stringify(db.fingerprint);
    if (s.snapshotAt === at) return;
    const snap = latestDbSkillsSnapshot(dbs.get(db.path));
    s.snapshot = (snap?.skills ?? []).map((k) => ({ name: k.name, skillKey: k.skillKey, location: k.location }));
    s.snapshotAt = at;
    return;
  }
  if (!sessionsJson) return;
  let st: fs.Stats;
  try {
    st = fs.statSync(sessionsJson);
  } catch {
    return;
  }
  const at = `legacy:${statKey(st)}`;
  if (s.snapshotAt === at) return;
  const snap = latestLegacySkillsSnapshot(sessionsJson);
  s.snapshot = (snap?.skills ?? []).map((k) => ({ name: k.name, skillKey: k.skillKey, location: k.location }));
  s.snapshotAt = at;
}

/** The content hash of a SKILL.md (re-read only when its size or mtime changed), and its text when read. */
function skillFile(s: AgentSkillsState, location: string): { hash: string; text: string | null } | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(location);
  } catch {
    return null;
  }
  const known = s.files[location];
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return { hash: known.hash, text: null };
  if (st.size > MAX_SKILL_BYTES) return null;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(location);
  } catch {
    return null;
  }
  const hash = `sha256:${crypto.createHash("sha256").update(buf).digest("hex")}`;
  s.files[location] = { size: st.size, mtimeMs: st.mtimeMs, hash };
  return { hash, text: buf.toString("utf8") };
}

/** The agent's inventory to upload, or null when the hub already has it. */
export function planSkillUpload(
  ctx: Pick<ShipContext, "state" | "config" | "dbs" | "redactor">,
  agentId: string,
  db: ListedDatabase | undefined,
  sessionsJson: string | null,
): SkillUpload | null {
  const { deploymentId, privacy } = ctx.config;
  const redactor = ctx.redactor;
  const s = (ctx.state.skills[agentId] ??= emptyAgentState());
  refreshSnapshot(s, db, sessionsJson, ctx.dbs);
  const skills: Record<string, unknown>[] = [];
  const sentAfter: Record<string, string> = {};
  let contents = 0;
  for (const k of [...s.snapshot].sort((a, b) => (a.skillKey < b.skillKey ? -1 : 1))) {
    const file = k.location ? skillFile(s, k.location) : null;
    const entry: Record<string, unknown> = { agentId, skillKey: k.skillKey, name: k.name, source: skillSource(k.location), available: true };
    if (file) {
      entry["contentHash"] = file.hash;
      sentAfter[k.skillKey] = file.hash;
      if (s.sent[k.skillKey] !== file.hash && privacy !== "metadata") {
        // The hash may be known from an earlier read whose upload failed: read the text again.
        const text = file.text ?? (k.location ? safeRead(k.location) : null);
        if (text !== null) {
          entry["content"] = privacy === "redacted" ? redactor.text(text) : text;
          contents++;
        }
      }
    }
    skills.push(entry);
  }
  const manifestHash = crypto.createHash("sha256").update(JSON.stringify(skills.map(({ content: _c, ...rest }) => rest))).digest("hex");
  if (manifestHash === s.manifestHash && contents === 0) return null;
  return {
    agentId,
    skills: skills.length,
    contents,
    body: JSON.stringify({ deploymentId, agentId, fullSync: true, skills }),
    commit() {
      s.manifestHash = manifestHash;
      s.sent = sentAfter;
    },
  };
}

function safeRead(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** Uploads each listed agent's inventory that changed; a hub that is down or refuses the key ends the cycle. */
export async function shipSkills(ctx: ShipContext, home: HomeListing): Promise<StopReason | null> {
  const summary = ctx.summary;
  for (const agentId of home.agents) {
    const db = home.databases.find((d) => d.agentId === agentId);
    const sessionsJson = path.join(ctx.stateDir, "agents", agentId, "sessions", "sessions.json");
    let upload;
    try {
      upload = planSkillUpload(ctx, agentId, db, sessionsJson);
    } catch (e) {
      ctx.recordError("skills", `skills of agent ${agentId}: ${(e as Error).message}`);
      continue;
    }
    if (!upload) continue;
    summary.requests++;
    const r = await ctx.hub.post("/v1/openclaw/ingest/skills", upload.body, "application/json", () => summary.retries++);
    if (r.kind === "ok") {
      upload.commit();
      summary.skills.agents++;
      summary.skills.skills += upload.skills;
      summary.skills.contents += upload.contents;
      continue;
    }
    if (r.kind === "aborted") return "aborted";
    if (r.kind === "auth") {
      ctx.recordError("auth", `the hub refused the API key for skills (${r.message})`);
      return "auth";
    }
    ctx.recordError("skills", `skills of agent ${agentId} not uploaded: ${r.message}`);
    if (r.kind === "failed") return "failed";
  }
  return null;
}
