/**
 * An alert rule: what to watch (kind + its parameters), where (scope), how loud (severity), for how long a
 * condition must hold before it fires (`forMs`) and whom to tell (channels). One zod schema for the CLI, the hub
 * API, the store and the dashboard; the types are inferred from it.
 */
import { z } from "zod";
import { assertTimeZone } from "../time/zone.ts";

export const ALERT_KINDS = [
  "session-cost",
  "session-tokens",
  "window-spend",
  "spend-spike",
  "error-rate",
  "tool-error-rate",
  "tool-loop",
  "context-bloat",
  "stuck-session",
  "budget",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

const zone = z.string().refine((tz) => {
  try {
    assertTimeZone(tz);
    return true;
  } catch {
    return false;
  }
}, "an IANA time zone such as Europe/Berlin");

const usd = z.number().finite().nonnegative();
const ratio = z.number().min(0).max(1);
const minutes = z.number().positive().max(60 * 24 * 31);
const count = z.number().int().positive();

/** Narrows a rule to some sessions; every field left out matches everything. */
export const AlertScopeSchema = z
  .object({
    deployment: z.string().min(1).optional(),
    agent: z.string().min(1).optional(),
    channel: z.string().min(1).optional(),
    sessionKind: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
  })
  .strict();
export type AlertScope = z.infer<typeof AlertScopeSchema>;

export const WINDOWS = ["hour", "day", "month"] as const;
export type AlertWindow = (typeof WINDOWS)[number];

export const AlertConditionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("session-cost"), aboveUsd: usd }).strict(),
  z.object({ kind: z.literal("session-tokens"), aboveTokens: count }).strict(),
  z.object({ kind: z.literal("window-spend"), window: z.enum(WINDOWS), tz: zone.default("UTC"), aboveUsd: usd }).strict(),
  z
    .object({
      kind: z.literal("spend-spike"),
      window: z.enum(WINDOWS),
      tz: zone.default("UTC"),
      factor: z.number().gt(1),
      baselineWindows: count.max(90).default(7),
      minUsd: usd.default(1),
    })
    .strict(),
  z.object({ kind: z.literal("error-rate"), windowMinutes: minutes.default(60), aboveRatio: ratio, minCalls: count.default(20) }).strict(),
  z.object({ kind: z.literal("tool-error-rate"), windowMinutes: minutes.default(60), aboveRatio: ratio, minCalls: count.default(20) }).strict(),
  z.object({ kind: z.literal("tool-loop"), repeats: count.min(2) }).strict(),
  z
    .object({ kind: z.literal("context-bloat"), abovePromptTokens: count.optional(), growingCalls: count.min(2).optional() })
    .strict()
    .refine((c) => c.abovePromptTokens !== undefined || c.growingCalls !== undefined, "context-bloat needs abovePromptTokens or growingCalls (or both)"),
  z.object({ kind: z.literal("stuck-session"), idleMinutes: minutes }).strict(),
  z.object({ kind: z.literal("budget"), budget: z.string().min(1).optional(), states: z.array(z.string().min(1)).min(1).default(["warning", "exceeded"]) }).strict(),
]);
export type AlertCondition = z.infer<typeof AlertConditionSchema>;

/** Grafana's notification policy defaults. */
export const DEFAULT_TIMING = { groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 4 * 3_600_000 } as const;

const url = z.string().url().refine((u) => /^https?:\/\//.test(u), "an http:// or https:// URL");
const ms = z.number().int().nonnegative().max(30 * 86_400_000);

export const AlertChannelSchema = z
  .object({
    type: z.enum(["webhook", "slack"]),
    url,
    /** webhook: the HMAC-SHA256 key for X-Clawtower-Signature (made when the rule is added, if not given). */
    secret: z.string().min(16).optional(),
    groupWaitMs: ms.default(DEFAULT_TIMING.groupWaitMs),
    groupIntervalMs: ms.default(DEFAULT_TIMING.groupIntervalMs),
    repeatIntervalMs: ms.default(DEFAULT_TIMING.repeatIntervalMs),
  })
  .strict();
export type AlertChannel = z.infer<typeof AlertChannelSchema>;

export const AlertRuleInputSchema = z
  .object({
    name: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-'"),
    severity: z.enum(ALERT_SEVERITIES).default("warning"),
    condition: AlertConditionSchema,
    scope: AlertScopeSchema.default({}),
    forMs: ms.default(0),
    channels: z.array(AlertChannelSchema).max(10).default([]),
    enabled: z.boolean().default(true),
  })
  .strict();
export type AlertRuleInput = z.input<typeof AlertRuleInputSchema>;
export type AlertRuleSpec = z.output<typeof AlertRuleInputSchema>;
export type AlertRule = AlertRuleSpec & { id: string; createdAt: number };

/** BMasterAI's three rules (seed 004): session cost > $1 and tokens > 100,000 (warning), daily spend > $10. */
export function bmasteraiPreset(channels: AlertChannel[], tz = "UTC"): AlertRuleSpec[] {
  return [
    { name: "session-cost-1usd", severity: "warning", condition: { kind: "session-cost", aboveUsd: 1 }, scope: {}, forMs: 0, channels, enabled: true },
    { name: "session-tokens-100k", severity: "warning", condition: { kind: "session-tokens", aboveTokens: 100_000 }, scope: {}, forMs: 0, channels, enabled: true },
    { name: "daily-cost-10usd", severity: "critical", condition: { kind: "window-spend", window: "day", tz, aboveUsd: 10 }, scope: {}, forMs: 0, channels, enabled: true },
  ];
}

/** "path: message" lines for a zod failure, for CLI and API errors. */
export function describeRuleIssues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join(".") || "rule"}: ${i.message}`).join("; ");
}
