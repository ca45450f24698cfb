/**
 * Cold archive files (`sessions/cold/<sha256>.jsonl.zst`, OpenClaw 2026.9) are not plain transcripts: each
 * line is a restore record — `{"kind":"header"}`, then `{"kind":"event","row":{"seq","event_json","created_at"}}`
 * for every transcript event (always as decompressed JSON text), then identity / active / index / fts
 * records. Only the event records carry transcript events. An archive without a restore header is read as
 * plain JSONL.
 */
import { readLinesFromText } from "./read-lines.ts";

export type ColdEvent = { text: string; seq: number | undefined; createdAt: number | undefined; line: number };

export function isRestoreFormat(latin1: string): boolean {
  return /^\s*\{\s*"kind"\s*:\s*"header"/.test(latin1.slice(0, 200));
}

/** Event texts of a restore-format archive (`latin1` = the decompressed bytes as latin1 text). */
export function coldEvents(latin1: string, onBadLine: (line: number, detail: string) => void): ColdEvent[] {
  const out: ColdEvent[] = [];
  readLinesFromText(latin1, (raw, line) => {
    if (raw.trim() === "") return;
    // Cheap test first: most non-event records are small and skipped without parsing.
    if (!raw.includes('"kind":"event"')) return;
    let rec: unknown;
    try {
      rec = JSON.parse(Buffer.from(raw, "latin1").toString("utf8"));
    } catch (e) {
      onBadLine(line, `restore record is not valid JSON: ${(e as Error).message}`);
      return;
    }
    const row = (rec as { kind?: unknown; row?: { seq?: unknown; event_json?: unknown; created_at?: unknown } }).row;
    if ((rec as { kind?: unknown }).kind !== "event" || !row || typeof row.event_json !== "string") {
      onBadLine(line, "event record without event_json");
      return;
    }
    out.push({
      text: row.event_json,
      seq: typeof row.seq === "number" ? row.seq : undefined,
      createdAt: typeof row.created_at === "number" ? row.created_at : undefined,
      line,
    });
  });
  return out;
}
