/**
 * Reads every event text of one part, for session replay. (Accounting never needs whole events; replay
 * does, for one session at a time.) The part is named by the kind and locator the store recorded.
 */
import fs from "node:fs";
import zlib from "node:zlib";
import { iterateSessionRows, latin1Of, openAgentDb, readArchiveBlob, readColdBlob } from "./agent-db.ts";
import { textOf, wholeTexts } from "./event-texts.ts";

export type PartText = { text: string; order: number };

/** The events of a decoded archive (latin1 text), each decoded. */
const linesOf = (latin1: string): PartText[] => wholeTexts(latin1).map((e) => ({ text: textOf(e), order: e.order }));

export function readPartTexts(kind: string, locator: string): PartText[] {
  if (kind === "sqlite" || locator.includes("#archive:") || locator.includes("#cold:")) {
    const hash = locator.lastIndexOf("#");
    const dbPath = locator.slice(0, hash);
    const ref = locator.slice(hash + 1);
    const db = openAgentDb(dbPath);
    try {
      if (ref.startsWith("archive:")) {
        const [, sessionId, generation] = ref.split(":") as [string, string, string];
        const blob = readArchiveBlob(db, sessionId, generation);
        return blob.bytes === null ? [] : linesOf(latin1Of(blob.bytes));
      }
      if (ref.startsWith("cold:")) {
        const blob = readColdBlob(db, ref.split(":")[1]!);
        return blob.bytes === null ? [] : linesOf(latin1Of(blob.bytes));
      }
      const out: PartText[] = [];
      for (const row of iterateSessionRows(db, ref, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
        if (row.bytes === null) continue;
        out.push({ text: row.bytes.toString("utf8"), order: row.seq });
      }
      return out;
    } finally {
      db.close();
    }
  }
  const buf = fs.readFileSync(locator);
  if (locator.endsWith(".zst")) {
    return linesOf(latin1Of(zlib.zstdDecompressSync(buf)));
  }
  return linesOf(buf.toString("latin1"));
}
