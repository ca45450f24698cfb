/**
 * Reads a legacy `agents/<id>/sessions/sessions.json` index (sessionKey → SessionEntry) for session
 * metadata: key, kind, channel, label, lineage and the skills snapshot. Transcripts themselves come from
 * the JSONL files; the index only names them.
 */
import fs from "node:fs";
import { classifySessionKind } from "./session-kind.ts";
import type { DbSessionMeta } from "./agent-db.ts";

type Entry = Record<string, unknown>;

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function skillNames(entry: Entry): string[] | null {
  const snap = entry["skillsSnapshot"];
  if (!snap || typeof snap !== "object") return null;
  const skills = (snap as { skills?: unknown }).skills;
  if (!Array.isArray(skills)) return null;
  return skills
    .map((s) => (typeof s === "string" ? s : s && typeof s === "object" && "name" in s ? String((s as { name: unknown }).name) : null))
    .filter((s): s is string => s !== null);
}

export type LegacyIndex = { sessions: DbSessionMeta[]; error: string | null };

export function readLegacyIndex(file: string): LegacyIndex {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { sessions: [], error: null };
    return { sessions: [], error: (e as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { sessions: [], error: `invalid JSON: ${(e as Error).message}` };
  }
  if (!parsed || typeof parsed !== "object") return { sessions: [], error: "not an object" };
  const sessions: DbSessionMeta[] = [];
  for (const [sessionKey, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!value || typeof value !== "object") continue;
    const e = value as Entry;
    const sessionId = str(e["sessionId"]);
    if (!sessionId) continue;
    const chatType = str(e["chatType"]);
    const spawnedBy = str(e["spawnedBy"]);
    const origin = e["origin"] && typeof e["origin"] === "object" ? (e["origin"] as Entry) : {};
    const deliveryContext = e["deliveryContext"] && typeof e["deliveryContext"] === "object" ? (e["deliveryContext"] as Entry) : {};
    sessions.push({
      sessionId,
      sessionKey,
      kind: classifySessionKind(sessionKey, { chatType, spawnedBy }),
      channel: str(e["channel"]) ?? str(e["lastChannel"]) ?? str(origin["provider"]) ?? str(deliveryContext["channel"]),
      chatType,
      label: str(e["label"]) ?? str(e["displayName"]),
      parentSessionKey: str(e["parentSessionKey"]),
      spawnedBy,
      createdVia: null,
      status: null,
      windowReason: null,
      previousSessionId: null,
      skills: skillNames(e),
      forkSourceSessionId: null,
    });
  }
  return { sessions, error: null };
}
