/**
 * The spend guard's configuration: `budgets`, `budgetFailMode`, `budgetReserve` and `budgetAlerts` under
 * `plugins.entries.clawtower.config`, declared once here. They are validated apart from the upload keys
 * (load.ts strips them first): a wrong budget field turns off the guard and names its path, but never the
 * uploads — and a wrong upload field never turns off the guard.
 */
import { assertTimeZone } from "@clawtower/core";
import { z } from "zod";

/** The gateway host's own zone (TZ, else the system's), the default of `timeZone`. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const timeZone = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    try {
      assertTimeZone(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  });

const scopeValue = z.string().min(1).max(300);

export const BudgetScopeSchema = z
  .strictObject({
    agent: scopeValue.optional().describe("Agent id, e.g. \"main\"."),
    channel: scopeValue.optional().describe("Channel the run came from (telegram, discord, webchat, …)."),
    kind: scopeValue.optional().describe("Session kind: main | direct | group | cron | subagent | hook | other."),
    cronJob: scopeValue.optional().describe("Cron job id (runs started by that job)."),
    provider: scopeValue.optional().describe("Model provider id of the call, e.g. \"anthropic\"."),
    model: scopeValue.optional().describe("Model id of the call, e.g. \"claude-sonnet-4-5\" (or provider/model)."),
  })
  .describe("What the budget covers; every key given must match; {} = the whole gateway.");

export const BudgetSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9-]+$/, "lower-case letters, digits and - only")
      .max(64)
      .describe("Unique id ([a-z0-9-]), used in alerts, events and `openclaw clawtower budgets`."),
    scope: BudgetScopeSchema.prefault({}),
    period: z.enum(["day", "week", "month"]).describe("Calendar period in timeZone: day | week (starts Monday) | month."),
    timeZone: timeZone.optional().describe("IANA zone of the period's boundaries. Default: the gateway host's zone."),
    limitUsd: z.number().positive().finite().optional().describe("Limit in USD (recorded cost, else estimated from the price book)."),
    limitTokens: z.number().int().positive().optional().describe("Limit in tokens (input + output + cache read + cache write); unpriced calls count here."),
    warnAt: z
      .array(z.number().gt(0).lt(1))
      .max(10)
      .default([0.8])
      .describe("Fractions of the limit that send a warning alert (once per period each)."),
    action: z.enum(["block", "downgrade", "warn"]).default("block").describe("At the limit: block new runs (and stop running ones at their next tool call) | downgrade to downgradeTo | warn only."),
    downgradeTo: z
      .string()
      .regex(/^[^/\s]+\/\S+$/, "provider/model, e.g. anthropic/claude-haiku-4-5")
      .optional()
      .describe("provider/model that runs get once the budget is reached (action downgrade)."),
    message: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .describe("Shown to the user when a run is blocked. Placeholders: {budget} {limit} {spent} {resetsAt}."),
  })
  .superRefine((b, ctx) => {
    if (b.limitUsd === undefined && b.limitTokens === undefined) ctx.addIssue({ code: "custom", path: ["limitUsd"], message: "limitUsd and/or limitTokens is required" });
    if (b.action === "downgrade" && !b.downgradeTo) ctx.addIssue({ code: "custom", path: ["downgradeTo"], message: "required when action is \"downgrade\"" });
    if (b.action !== "downgrade" && b.downgradeTo) ctx.addIssue({ code: "custom", path: ["downgradeTo"], message: "only used with action \"downgrade\"" });
  });

export const BudgetConfigSchema = z.strictObject({
  budgets: z
    .array(BudgetSchema)
    .max(500)
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((b, i) => {
        if (seen.has(b.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate budget id "${b.id}"` });
        seen.add(b.id);
      });
    })
    .describe("Spend limits enforced inside the gateway (needs hooks.allowConversationAccess)."),
  budgetFailMode: z
    .enum(["closed", "open"])
    .default("closed")
    .describe("When spend cannot be known (the ledger cannot be read): closed = block runs in budget scopes, open = allow and log."),
  budgetReserve: z
    .strictObject({
      floorUsd: z.number().min(0).finite().default(0.01).describe("Smallest amount a starting run reserves (USD)."),
      floorTokens: z.number().int().min(0).default(1000).describe("Smallest number of tokens a starting run reserves."),
      recentRuns: z.number().int().min(1).max(1000).default(50).describe("Runs of a budget's scope whose p95 is the reservation."),
      maxRunMinutes: z.number().int().min(1).max(1440).default(60).describe("A run's reservation is dropped after this long if its end is never seen."),
    })
    .prefault({})
    .describe("Reservations: a starting run holds the p95 cost of its scope's recent runs until its calls are recorded."),
  budgetAlerts: z
    .strictObject({
      webhook: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }).describe("Receives a POST per alert."),
          format: z.enum(["json", "slack"]).default("json").describe("json: the alert object; slack: {\"text\": …} (Slack-compatible incoming webhook)."),
          retryAttempts: z.number().int().min(0).max(20).default(5).describe("Retries after the first attempt."),
          retryBackoffMs: z.number().int().min(0).max(3_600_000).default(2000).describe("First retry delay; doubles per retry."),
          timeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe("Timeout of one request."),
        })
        .optional(),
    })
    .prefault({})
    .describe("Where budget alerts go (each threshold once per period)."),
});

export type BudgetConfig = z.output<typeof BudgetConfigSchema>;
export type Budget = z.output<typeof BudgetSchema>;
export type BudgetScope = z.output<typeof BudgetScopeSchema>;
export type WebhookConfig = NonNullable<BudgetConfig["budgetAlerts"]["webhook"]>;

export const BUDGET_KEYS = Object.keys(BudgetConfigSchema.shape) as (keyof BudgetConfig)[];
