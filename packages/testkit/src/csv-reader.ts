/**
 * A reader of RFC 4180 CSV for tests, written apart from the writer (core/reports/csv.ts): records end with
 * CRLF, quoted fields may hold anything with quotes doubled, an unquoted field holds no quote, CR or LF.
 */
import assert from "node:assert/strict";

export function parseRfc4180(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const rec: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          assert.ok(q >= 0, "unterminated quoted field");
          field += text.slice(i, q);
          i = q + 1;
          if (text[i] === '"') {
            field += '"';
            i++;
          } else break;
        }
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\r") {
          assert.ok(text[i] !== '"' && text[i] !== "\n", `bare ${JSON.stringify(text[i])} in an unquoted field at ${i}`);
          field += text[i++];
        }
      }
      rec.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      assert.equal(text.slice(i, i + 2), "\r\n", `record must end with CRLF at ${i}`);
      i += 2;
      break;
    }
    records.push(rec);
  }
  return records;
}

