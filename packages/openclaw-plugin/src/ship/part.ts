/**
 * One transcript part: read from its position in bounded chunks, drop lines core cannot read, apply
 * privacy, record LLM calls in the local usage ledger, and hand each chunk to the sender with the position
 * it reaches. A part rewritten while it is read starts again as a new generation (at most twice a cycle).
 */
import crypto from "node:crypto";
import path from "node:path";
import { extractEventFacts, isExtractFailure, readEventTexts, type DiscoveredPart, type SessionMetaOf } from "@clawtower/core";
import { callRowFromFacts } from "../live/call-rows.ts";
import type { LlmCallRow } from "../live/usage-ledger.ts";
import type { PartState } from "../state/ship-state.ts";
import type { ShipContext, StopReason } from "./context.ts";
import type { SessionWork } from "./planning.ts";
import type { Sender } from "./sender.ts";
import type { SessionMetaWire, WireLine } from "./wire.ts";

export type PartOutcome = { sent: boolean; stop: StopReason | null; pending: boolean; pendingBytes: number };

function metaWire(m: SessionMetaOf | undefined): SessionMetaWire | undefined {
  if (!m) return undefined;
  return {
    sessionKey: m.sessionKey,
    kind: m.kind,
    channel: m.channel,
    chatType: m.chatType,
    label: m.label,
    parentSessionKey: m.parentSessionKey,
    spawnedBy: m.spawnedBy,
    createdVia: m.createdVia,
    skills: m.skills,
    forkSourceSessionId: m.forkSourceSessionId,
  };
}

/** A short, stable tag of a part for idempotency keys (its locator holds absolute paths). */
function partTag(part: DiscoveredPart): string {
  return `${part.kind}:${crypto.createHash("sha1").update(part.locator).digest("hex").slice(0, 10)}`;
}

function sessionFileOf(part: DiscoveredPart): string {
  return part.source.type === "file" ? path.basename(part.source.path) : `${part.kind}:${part.sessionId}`;
}

export async function shipPart(ctx: ShipContext, sender: Sender, work: SessionWork, part: DiscoveredPart): Promise<PartOutcome> {
  const { budget, summary, sizes } = ctx;
  const tag = partTag(part);
  const sessionFile = sessionFileOf(part);
  const meta = metaWire(work.meta);
  const sessionKey = work.meta?.sessionKey ?? null;
  let current: PartState = sender.latest(part.locator) ?? {
    agentId: part.agentId,
    sessionId: part.sessionId,
    kind: part.kind,
    fingerprint: null,
    resume: null,
    done: false,
    generation: 0,
    lines: 0,
  };
  if (current.skipped) current = { ...current, skipped: false, resume: null, done: false, lines: 0 };
  let rewrites = 0;
  let sent = false;
  let readBytes = 0;
  for (;;) {
    if (ctx.signal.aborted) return { sent, stop: "aborted", pending: true, pendingBytes: Math.max(0, part.sizeHint - readBytes) };
    if (!budget.firstChunk && budget.bytes <= 0) return { sent, stop: null, pending: true, pendingBytes: Math.max(0, part.sizeHint - readBytes) };
    const batch = readEventTexts(part, current.resume, { maxBytes: Math.min(sizes.chunkBytes, Math.max(budget.bytes, 1)), maxEvents: sizes.chunkEvents }, ctx.dbs);
    if (batch.readError) {
      ctx.recordError("read", `${part.locator}: ${batch.readError}`);
      return { sent, stop: null, pending: false, pendingBytes: 0 };
    }
    if (batch.rewriteDetected) {
      if (++rewrites > 2) {
        ctx.recordError("read", `${part.locator} keeps changing while being read; will retry next cycle`);
        return { sent, stop: null, pending: true, pendingBytes: part.sizeHint };
      }
      current = { ...current, resume: null, done: false, lines: 0, generation: current.generation + 1 };
      continue;
    }
    budget.firstChunk = false;
    budget.bytes -= batch.bytes;
    readBytes += batch.bytes;
    summary.bytesRead += batch.bytes;
    const lines: WireLine[] = [];
    const calls: LlmCallRow[] = [];
    for (const ev of batch.events) {
      const facts = extractEventFacts(ev.text, ev.encoding);
      if (isExtractFailure(facts)) {
        summary.lines.bad++;
        continue;
      }
      const prepared = ctx.transform(ev.text, ev.encoding);
      if (!prepared) {
        summary.lines.bad++;
        continue;
      }
      const line: WireLine = {
        agentId: part.agentId,
        sessionId: part.sessionId,
        order: ev.order,
        hasId: facts.id !== undefined,
        idempotencyKey: `${ctx.config.deploymentId}/${part.agentId}/${part.sessionId}/${tag}/g${current.generation}/${ev.order}`,
        event: prepared,
        sessionFile,
      };
      if (lines.length === 0 && meta) line.session = meta;
      lines.push(line);
      const call = ctx.ledger ? callRowFromFacts({ agentId: part.agentId, sessionId: part.sessionId, sessionKey }, facts, "transcript") : null;
      if (call) calls.push(call);
    }
    if (calls.length > 0 && ctx.ledger) {
      const ledger = ctx.ledger;
      try {
        ledger.transaction(() => calls.forEach((c) => ledger.recordCall(c)));
      } catch (e) {
        ctx.recordError("ledger", `usage ledger: ${(e as Error).message}`);
      }
    }
    const after: PartState = { ...current, fingerprint: part.source.fingerprint, resume: batch.resume, done: batch.done, lines: current.lines + lines.length, skipped: false };
    delete after.skipped;
    const stop = await sender.add({ locator: part.locator, lines, after });
    if (lines.length > 0) sent = true;
    current = after;
    if (stop) return { sent, stop, pending: true, pendingBytes: Math.max(0, part.sizeHint - readBytes) };
    if (batch.done) return { sent, stop: null, pending: false, pendingBytes: 0 };
    if (batch.events.length === 0 && !batch.done) {
      // No progress possible (e.g. a partial last line being written): continue next cycle.
      return { sent, stop: null, pending: false, pendingBytes: 0 };
    }
  }
}
