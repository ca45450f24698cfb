/**
 * CSV as RFC 4180 writes it: CRLF between records, a field quoted when it holds a comma, a double quote, CR or
 * LF, a quote inside doubled. Shared by `clawtower report --csv` and the dashboard's download buttons (pure, no
 * Node APIs: csv-stringify's Node build allocates a Buffer when loaded, and its browser build carries a Buffer
 * polyfill larger than the dashboard's own code for these few lines).
 */
export type CsvCell = string | number | boolean | null | undefined;

export function csvField(v: CsvCell): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? numberText(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Plain decimal notation (1e-7 would not read back as a number in every spreadsheet). */
function numberText(v: number): string {
  if (!Number.isFinite(v)) return "";
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  // Shift the decimal point of the shortest round-trip digits: exact, unlike toFixed.
  const digits = m[2]! + (m[3] ?? "");
  const exp = Number(m[4]);
  if (exp < 0) return `${m[1]}0.${"0".repeat(-exp - 1)}${digits}`;
  return `${m[1]}${digits.padEnd(exp + 1, "0")}`;
}

/** A header row and data rows as one CSV document (each record ends with CRLF, the last one too). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  let out = `${header.map(csvField).join(",")}\r\n`;
  for (const r of rows) out += `${r.map(csvField).join(",")}\r\n`;
  return out;
}
