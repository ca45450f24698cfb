import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRfc4180 } from "@clawtower/testkit";
import { csvField, toCsv } from "../src/reports/csv.ts";

describe("CSV (RFC 4180)", () => {
  it("quotes exactly the fields that need it and doubles inner quotes", () => {
    assert.equal(csvField("plain"), "plain");
    assert.equal(csvField("a,b"), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField("two\nlines"), '"two\nlines"');
    assert.equal(csvField("cr\rhere"), '"cr\rhere"');
    assert.equal(csvField(" padded "), " padded ");
    assert.equal(csvField(null), "");
    assert.equal(csvField(undefined), "");
    assert.equal(csvField(42), "42");
    assert.equal(csvField(true), "true");
  });

  it("writes numbers in plain decimal notation, digit for digit", () => {
    assert.equal(csvField(0.000000123), "0.000000123");
    assert.equal(csvField(-1.5e-7), "-0.00000015");
    assert.equal(csvField(1e21), "1000000000000000000000");
    assert.equal(csvField(0.1 + 0.2), "0.30000000000000004");
    assert.equal(csvField(Number.NaN), "");
  });

  it("writes a header and CRLF-terminated records that read back as the same cells", () => {
    assert.equal(toCsv(["a", "b"], [[1, "x"]]), "a,b\r\n1,x\r\n");
    const alphabet = ['"', ",", "\r", "\n", "a", "é", " ", "🦞"];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const rows = Array.from({ length: 200 }, () => Array.from({ length: 4 }, () => Array.from({ length: rand(6) }, () => alphabet[rand(alphabet.length)]).join("")));
    const header = ["h,1", 'h"2', "h3", "h4"];
    assert.deepEqual(parseRfc4180(toCsv(header, rows)), [header, ...rows]);
  });
});
