/** Reading the hub's per-line answers back onto the lines of a request (ship/wire.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wireFor, type WireLine } from "../src/ship/wire.ts";

const line = (sessionId: string, order: number): WireLine => ({ agentId: "main", sessionId, order, hasId: true, idempotencyKey: `k/${sessionId}/${order}`, event: { json: "{}", encoding: "utf16" }, sessionFile: `${sessionId}.jsonl` });

describe("influxion answers", () => {
  const wire = wireFor("influxion");
  const lines = [line("s1", 5), line("s2", 5), line("s2", 6)];

  it("an error with the line's position marks exactly that line (a Clawtower hub)", () => {
    const got = wire.answers({ accepted: 2, errors: [{ index: 1, lineIndex: 5, agentId: "main", sessionId: "s2", reason: "bad" }] }, lines);
    assert.deepEqual(got, [{ status: "accepted" }, { status: "rejected", reason: "bad" }, { status: "accepted" }]);
  });

  it("an error with only a lineIndex marks every line with that index (Influxion)", () => {
    const got = wire.answers({ accepted: 1, errors: [{ lineIndex: 5, reason: "bad" }] }, lines);
    assert.deepEqual(got, [{ status: "rejected", reason: "bad" }, { status: "rejected", reason: "bad" }, { status: "accepted" }]);
  });

  it("an answer without an accepted count is not an answer", () => {
    assert.ok("error" in (wire.answers({ errors: [] }, lines) as object));
  });
});
