/**
 * The reply gate's configuration: `replyGate` under `plugins.entries.clawtower.config`, declared once here and
 * validated apart from the upload and budget keys (load.ts strips it first): a wrong gate field turns off the
 * gate and names its path, but never the uploads or the spend guard.
 */
import { z } from "zod";

const peer = z.string().trim().min(1).max(300);

export const GateChatSchema = z
  .strictObject({
    channel: z.string().trim().min(1).max(100).describe("Channel id as OpenClaw names it (whatsapp, telegram, discord, signal, webchat, …)."),
    peers: z
      .array(peer)
      .min(1)
      .max(1000)
      .describe("Protected chats on that channel: phone numbers (any format, compared as E.164), group or user JIDs (…@g.us, …@s.whatsapp.net), chat/channel ids — JIDs and ids are kept exactly as written."),
    allowedSenders: z.array(peer).min(1).max(1000).describe("Who may trigger a reply in these chats (same forms as peers)."),
  })
  .describe("One channel's protected chats and the senders allowed to arm them.");

export const ReplyGateSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe("Turn the gate on. Off (the default) registers nothing and does nothing."),
    chats: z.array(GateChatSchema).max(100).default([]).describe("Protected chats, per channel; several entries may name the same channel."),
    triggerRegex: z.string().min(1).max(1000).default("^\\s*friday:\\s*").describe("An inbound message from an allowed sender that matches arms the chat. Compiled with triggerFlags."),
    triggerFlags: z
      .string()
      .regex(/^[imsu]*$/, "only the flags i, m, s and u are allowed")
      .default("i")
      .describe("Flags of triggerRegex (i, m, s, u; g and y are not allowed: a trigger test must not keep state)."),
    requireBodyAfterTrigger: z.boolean().default(true).describe("Reject a trigger whose text after the match has no letter or digit (\"friday:\" alone, \"friday: ?!\")."),
    armTtlMs: z.number().int().min(15_000).max(86_400_000).default(120_000).describe("How long an arm lives; each allowed reply slides it by this much."),
    maxUsesPerArm: z.number().int().min(1).max(1000).default(3).describe("Replies one trigger allows."),
    missedResponseTtlMs: z
      .number()
      .int()
      .min(30_000)
      .max(7 * 86_400_000)
      .default(600_000)
      .describe("Watchdog: an unarmed reply to a chat whose latest trigger is unanswered and younger than this gets one use; older requests are marked missed."),
    wrapper: z
      .strictObject({
        chats: z.array(GateChatSchema.pick({ channel: true, peers: true })).max(100).default([]).describe("Chats whose outgoing text is wrapped (protected or not)."),
        prefix: z.string().min(1).max(500).default("↓↓↓ F.R.I.D.A.Y. ↓↓↓").describe("Line put before the text."),
        suffix: z.string().min(1).max(500).default("↑↑↑ F.R.I.D.A.Y. ↑↑↑").describe("Line put after the text."),
      })
      .prefault({})
      .describe("Wraps text to these chats in prefix/suffix lines, exactly once (already wrapped text is left alone)."),
    dbPath: z.string().min(1).max(4096).optional().describe("The gate's SQLite file. Default: <stateDir>/clawtower/reply-gate.sqlite."),
    keepDays: z.number().int().min(1).max(3650).default(30).describe("Requests, replies, blocks and seen message ids older than this are pruned."),
  })
  // Compiled at config time with its flags, so a bad pattern is named here, not at the first message.
  .superRefine((g, ctx) => {
    try {
      new RegExp(g.triggerRegex, g.triggerFlags);
    } catch (e) {
      ctx.addIssue({ code: "custom", path: ["triggerRegex"], message: `not a valid regular expression: ${(e as Error).message}` });
    }
  })
  .describe("Outbound reply gate: the agent may reply into a protected chat only after an allowed sender triggered it.");

export const GateConfigSchema = z.strictObject({ replyGate: ReplyGateSchema.prefault({}) });

export type ReplyGateConfig = z.output<typeof ReplyGateSchema>;
export type ReplyGateInput = z.input<typeof ReplyGateSchema>;

export const GATE_KEYS = Object.keys(GateConfigSchema.shape) as (keyof z.output<typeof GateConfigSchema>)[];
