/**
 * An agent's skills inventory as OpenClaw last resolved it: the skills snapshot stored with each session
 * (2026.9: `session_nodes.entry_json.skillsSnapshot`; legacy: `sessions.json` entries, whose prompt text may
 * live in `skills-prompts/sha256/<2 hex>/<sha256>.txt`). The snapshot lists the skills (name, key, env
 * needs) and its prompt names each skill's SKILL.md location (`<location>…</location>`).
 * The most recently updated session's snapshot is the agent's current inventory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DatabaseSync } from "node:sqlite";

export type SnapshotSkill = {
  name: string;
  skillKey: string;
  /** Absolute path of the skill's SKILL.md, when the snapshot's prompt names one. */
  location: string | null;
  primaryEnv: string | null;
  requiredEnv: string[];
};

export type SkillsSnapshot = { sessionKey: string; updatedAt: number; skills: SnapshotSkill[] };

type RawSnapshot = { skills?: unknown; prompt?: unknown; promptRef?: { hash?: unknown } };

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

/** `<name>…</name>` → `<location>…</location>` pairs of a skills prompt. */
export function skillLocations(prompt: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<skill>\s*<name>([^<]*)<\/name>[\s\S]*?<location>([^<]*)<\/location>[\s\S]*?<\/skill>/g;
  for (let m = re.exec(prompt); m; m = re.exec(prompt)) out.set(m[1]!.trim(), expandHome(m[2]!.trim()));
  return out;
}

export function parseSkillsSnapshot(raw: unknown, sessionKey: string, updatedAt: number, promptDir: string | null): SkillsSnapshot | null {
  if (!raw || typeof raw !== "object") return null;
  const snap = raw as RawSnapshot;
  if (!Array.isArray(snap.skills)) return null;
  let prompt = typeof snap.prompt === "string" ? snap.prompt : "";
  const hash = snap.promptRef?.hash;
  if (prompt === "" && typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash) && promptDir) {
    try {
      prompt = fs.readFileSync(path.join(promptDir, "sha256", hash.slice(0, 2), `${hash}.txt`), "utf8");
    } catch {
      // the prompt file is optional: the skills are still listed, without locations
    }
  }
  const locations = skillLocations(prompt);
  const skills: SnapshotSkill[] = [];
  for (const s of snap.skills) {
    const entry = typeof s === "string" ? { name: s } : s && typeof s === "object" ? (s as Record<string, unknown>) : null;
    if (!entry || typeof entry["name"] !== "string" || entry["name"] === "") continue;
    const name = entry["name"];
    skills.push({
      name,
      skillKey: typeof entry["skillKey"] === "string" ? entry["skillKey"] : name,
      location: locations.get(name) ?? null,
      primaryEnv: typeof entry["primaryEnv"] === "string" ? entry["primaryEnv"] : null,
      requiredEnv: Array.isArray(entry["requiredEnv"]) ? entry["requiredEnv"].filter((e): e is string => typeof e === "string") : [],
    });
  }
  return { sessionKey, updatedAt, skills };
}

/** The latest skills snapshot in an agent database (read-only handle). */
export function latestDbSkillsSnapshot(db: DatabaseSync): SkillsSnapshot | null {
  const hasNodes = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session_nodes'`).get();
  if (!hasNodes) return null;
  const row = db
    .prepare(
      `SELECT session_key, updated_at, json_extract(entry_json, '$.skillsSnapshot') AS snap FROM session_nodes
       WHERE json_valid(entry_json) AND json_extract(entry_json, '$.skillsSnapshot.skills') IS NOT NULL
       ORDER BY updated_at DESC LIMIT 1`,
    )
    .get() as { session_key: string; updated_at: number | bigint; snap: string } | undefined;
  if (!row) return null;
  try {
    return parseSkillsSnapshot(JSON.parse(row.snap), row.session_key, Number(row.updated_at), null);
  } catch {
    return null;
  }
}

/** The latest skills snapshot in a legacy `sessions.json` (prompt files resolved next to it). */
export function latestLegacySkillsSnapshot(sessionsJson: string): SkillsSnapshot | null {
  let index: Record<string, unknown>;
  try {
    index = JSON.parse(fs.readFileSync(sessionsJson, "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
  let best: { key: string; at: number; snap: unknown } | null = null;
  for (const [key, value] of Object.entries(index ?? {})) {
    if (!value || typeof value !== "object") continue;
    const e = value as Record<string, unknown>;
    if (!e["skillsSnapshot"]) continue;
    const at = typeof e["updatedAt"] === "number" ? e["updatedAt"] : 0;
    if (!best || at > best.at) best = { key, at, snap: e["skillsSnapshot"] };
  }
  if (!best) return null;
  return parseSkillsSnapshot(best.snap, best.key, best.at, path.join(path.dirname(sessionsJson), "skills-prompts"));
}
