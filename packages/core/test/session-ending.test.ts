import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sessionEnding } from "../src/sources/session-ending.ts";

const part = (kind: string, present = true, locator = `/h/agents/a/sessions/x.${kind}`) => ({ kind, locator, present });

describe("sessionEnding", () => {
  it("is null while any live part is in the home", () => {
    assert.equal(sessionEnding([part("jsonl")]), null);
    assert.equal(sessionEnding([part("sqlite"), part("sqlite-archive")]), null, "an SQLite reset keeps the session's rows");
    assert.equal(sessionEnding([part("cold-archive")]), null, "a cold session is inactive, not ended");
    assert.equal(sessionEnding([part("ingest")]), null);
    assert.equal(sessionEnding([]), null);
  });

  it("says deleted or reset when only archives are left", () => {
    assert.equal(sessionEnding([part("jsonl", false), part("jsonl-deleted")]), "deleted", "the live file was renamed to .deleted");
    assert.equal(sessionEnding([part("jsonl-reset")]), "reset");
    assert.equal(sessionEnding([part("sqlite-archive")]), "deleted");
    assert.equal(sessionEnding([part("jsonl-reset"), part("jsonl-deleted")]), "deleted", "a deletion wins over an earlier reset");
    assert.equal(sessionEnding([part("jsonl-zst", true, "/s/x.jsonl.reset.2026-11-19T10-00-00.000Z.zst")]), "reset");
    assert.equal(sessionEnding([part("jsonl-zst", true, "/s/x.jsonl.deleted.2026-11-19T10-00-00.000Z.zst")]), "deleted");
  });

  it("is null when the archives are gone from the home too (present says that)", () => {
    assert.equal(sessionEnding([part("jsonl-deleted", false)]), null);
    assert.equal(sessionEnding([part("jsonl", false)]), null);
  });
});
