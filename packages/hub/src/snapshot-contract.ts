/**
 * The body of `POST /api/v1/ingest/snapshots`, sent by `clawtower watch`: live gateway session snapshots.
 * Token counts and the context window are the gateway's own numbers; null when it does not report them.
 */
import { z } from "zod";

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();

export const SessionSnapshot = z.object({
  sessionId: z.string().min(1).max(300),
  fingerprint: z.string().min(1).max(200),
  sessionKey: z.string().min(1).max(500),
  agentId: z.string().min(1).max(200),
  kind: z.string().max(40).nullable(),
  label: z.string().max(500).nullable(),
  channel: z.string().max(200).nullable(),
  status: z.enum(["running", "idle", "error", "aborted"]),
  provider: z.string().max(200).nullable(),
  model: z.string().max(300).nullable(),
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  contextTokens: count,
  contextWindow: count,
  costUsd: z.number().min(0).max(1e9).nullable(),
  lastActivityAt: z.number().int().min(0).nullable(),
  observedAt: z.number().int().min(0),
});
export type SessionSnapshot = z.infer<typeof SessionSnapshot>;

export const SnapshotBatch = z.object({
  deploymentId: z.string().min(1).max(200).optional(),
  snapshots: z.array(SessionSnapshot).max(5000),
});
export type SnapshotBatch = z.infer<typeof SnapshotBatch>;
