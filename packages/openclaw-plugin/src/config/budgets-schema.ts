/**
 * The spend guard's configuration: `budgets`, `budgetFailMode`, `budgetReserve` and `budgetAlerts` under
 * `plugins.entries.clawtower.config`, declared once here. They are validated apart from the upload keys
 * (load.ts strips them first): a wrong budget field turns off the guard and names its path, but never the
 * uploads — and a wrong upload field never turns off the guard. A budget entry is core's BudgetSchema (the
 * hub's fleet budgets are the same shape plus `deployment`): one definition of the contract.
 */
import { BudgetSchema, BudgetScopeSchema } from "@clawtower/core";
import { z } from "zod";

/** The gateway host's own zone (TZ, else the system's), the default of `timeZone`. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

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
