/**
 * `clawtower doctor --store`: the full integrity check of the Clawtower store (SQLite's integrity_check:
 * every page, and every index against its table). Reads nothing from the OpenClaw home and imports nothing,
 * so a damaged store is not written to. Exit 1 when the store is damaged.
 */
import { checkStoreIntegrity, openStore, storeRecovery } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import type { CommonOptions } from "./shared.ts";

export async function runDoctorStore(o: CommonOptions): Promise<number> {
  const cfg = resolveLocalConfig({ openclawHome: o.openclawHome, db: o.db });
  // A store damaged where opening reads (the schema) throws StoreDamagedError, which names the file.
  const conn = await openStore(cfg.store);
  try {
    const report = checkStoreIntegrity(conn, "full");
    if (o.json) {
      const doc = { schemaVersion: 1, report: "doctor-store", store: { location: conn.location, dialect: conn.dialect }, integrity: report, recovery: report && !report.ok ? storeRecovery(report.file) : null };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else if (!report) {
      process.stdout.write(`Clawtower store ${conn.location}: PostgreSQL checks its own pages; nothing to check here.\n`);
    } else if (report.ok) {
      process.stdout.write(`Clawtower store ${report.file}: intact (full integrity check, ${report.ms} ms)\n`);
    } else {
      const out = [`Clawtower store ${report.file}: DAMAGED (full integrity check, ${report.ms} ms)`, ...report.problems.map((p) => `  ${p}`), "", storeRecovery(report.file)];
      process.stdout.write(`${out.join("\n")}\n`);
      process.stderr.write(`clawtower: the store ${report.file} is damaged; see above\n`);
    }
    return report && !report.ok ? 1 : 0;
  } finally {
    await conn.close();
  }
}
