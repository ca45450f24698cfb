/**
 * The budget contract, declared once: a budget (the plugin's `budgets` config entries), a fleet budget (the
 * same plus `deployment`, stored by the hub), the hub's `GET /api/v1/budgets/effective` answer and the
 * budget events gateways ship to the hub. Field names are the plugin's (packages/openclaw-plugin config).
 */
import { z } from "zod";
import { assertTimeZone } from "../time/zone.ts";

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
  .describe("What the budget covers; every key given must match; {} = the whole gateway (or fleet).");

export const BUDGET_SCOPE_KEYS = ["agent", "channel", "kind", "cronJob", "provider", "model"] as const;
export type BudgetScopeKey = (typeof BUDGET_SCOPE_KEYS)[number];

export const BUDGET_ID_PATTERN = /^[a-z0-9-]+$/;

const budgetFields = {
  id: z.string().regex(BUDGET_ID_PATTERN, "lower-case letters, digits and - only").max(64).describe("Unique id ([a-z0-9-])."),
  scope: BudgetScopeSchema.prefault({}),
  period: z.enum(["day", "week", "month"]).describe("Calendar period in timeZone: day | week (starts Monday) | month."),
  timeZone: timeZone.optional().describe("IANA zone of the period's boundaries."),
  limitUsd: z.number().positive().finite().optional().describe("Limit in USD (recorded cost, else estimated from the price book)."),
  limitTokens: z.number().int().positive().optional().describe("Limit in tokens (input + output + cache read + cache write); unpriced calls count here."),
  warnAt: z.array(z.number().gt(0).lt(1)).max(10).default([0.8]).describe("Fractions of the limit that send a warning (once per period each)."),
  action: z.enum(["block", "downgrade", "warn"]).default("block").describe("At the limit: block | downgrade to downgradeTo | warn only."),
  downgradeTo: z
    .string()
    .regex(/^[^/\s]+\/\S+$/, "provider/model, e.g. anthropic/claude-haiku-4-5")
    .optional()
    .describe("provider/model that runs get once the budget is reached (action downgrade)."),
  message: z.string().min(1).max(2000).optional().describe("Shown to the user when a run is blocked. Placeholders: {budget} {limit} {spent} {resetsAt}."),
};

type BudgetRulesInput = { limitUsd?: number | undefined; limitTokens?: number | undefined; action: string; downgradeTo?: string | undefined };

function budgetRules(b: BudgetRulesInput, ctx: z.RefinementCtx): void {
  if (b.limitUsd === undefined && b.limitTokens === undefined) ctx.addIssue({ code: "custom", path: ["limitUsd"], message: "limitUsd and/or limitTokens is required" });
  if (b.action === "downgrade" && !b.downgradeTo) ctx.addIssue({ code: "custom", path: ["downgradeTo"], message: "required when action is \"downgrade\"" });
  if (b.action !== "downgrade" && b.downgradeTo) ctx.addIssue({ code: "custom", path: ["downgradeTo"], message: "only used with action \"downgrade\"" });
}

/** A budget as the plugin configures it (`plugins.entries.clawtower.config.budgets[]`); timeZone defaults to the host's. */
export const BudgetSchema = z.strictObject(budgetFields).superRefine(budgetRules);

/** Every deployment: a fleet budget without `deployment`, or with "*". */
export const ALL_DEPLOYMENTS = "*";

/**
 * A fleet budget, stored by the hub: the same shape plus `deployment` (one deployment id, or "*" / absent for
 * every gateway, the spend then being the whole fleet's). Periods need a zone the hub can compute with, so
 * timeZone defaults to UTC here rather than to a host's zone.
 */
export const FleetBudgetSchema = z
  .strictObject({
    ...budgetFields,
    timeZone: timeZone.default("UTC").describe("IANA zone of the period's boundaries (default UTC)."),
    deployment: z
      .string()
      .min(1)
      .max(200)
      .regex(/^(\*|[^\s*]+)$/, "a deployment id, or * for every deployment")
      .default(ALL_DEPLOYMENTS)
      .describe("The deployment (gateway) the budget applies to, or * (default) for every one: the fleet's spend then counts."),
  })
  .superRefine(budgetRules);

export type Budget = z.output<typeof BudgetSchema>;
export type BudgetScope = z.output<typeof BudgetScopeSchema>;
export type FleetBudget = z.output<typeof FleetBudgetSchema>;
export type FleetBudgetInput = z.input<typeof FleetBudgetSchema>;

export const BudgetStateSchema = z.enum(["ok", "warn", "exceeded"]);
export type BudgetState = z.output<typeof BudgetStateSchema>;

const nanos = z.number().int().nonnegative().describe("Integer nano-dollars (1e-9 USD), exact.");
const count = z.number().int().nonnegative();
const instant = z.number().int().describe("Epoch milliseconds.");

/** Spend in a budget's scope: recorded cost, else estimated (as the ledger prices); unpriced calls by their tokens. */
export const BudgetSpendSchema = z.strictObject({
  nanos,
  tokens: count.describe("input + output + cache read + cache write of every call in scope, priced or not."),
  calls: count,
  unpricedCalls: count,
  unpricedTokens: count.describe("Tokens of calls with no known price (counted in tokens, not in nanos)."),
});
export type BudgetSpend = z.output<typeof BudgetSpendSchema>;

export const EffectiveBudgetSchema = z.strictObject({
  budget: FleetBudgetSchema,
  periodStart: instant,
  periodEnd: instant,
  resetsAt: instant.describe("= periodEnd: when the spend starts again from zero."),
  /** The fleet's spend in the scope for the current period (every contributing deployment). */
  spend: BudgetSpendSchema,
  /** Each deployment with calls in the scope this period (a gateway subtracts its own to get the others'). */
  byDeployment: z.array(BudgetSpendSchema.extend({ deployment: z.string() })),
  state: BudgetStateSchema,
  /**
   * Scope keys the hub cannot evaluate from the store; when non-empty, `spend` is not given as a figure the
   * guard may trust (it is zero) and the gateway enforces with its own spend only.
   */
  unsupported: z.array(z.enum(BUDGET_SCOPE_KEYS)),
});
export type EffectiveBudget = z.output<typeof EffectiveBudgetSchema>;

export const EffectiveBudgetsSchema = z.strictObject({
  schemaVersion: z.literal(1),
  deployment: z.string().nullable().describe("The deployment asked about; null = every budget (admin listing)."),
  generatedAt: instant,
  budgets: z.array(EffectiveBudgetSchema),
});
export type EffectiveBudgets = z.output<typeof EffectiveBudgetsSchema>;

/** `warn`, `block`, `downgrade`, `reset` as the plugin records them; `alert` when an alert was sent. */
export const BudgetEventKindSchema = z.enum(["warn", "block", "downgrade", "reset", "alert"]);
export type BudgetEventKind = z.output<typeof BudgetEventKindSchema>;

const optText = (max: number) => z.string().min(1).max(max).nullable().default(null);

/** One budget event as a gateway ships it (`POST /api/v1/ingest/budget-events`); `eventId` makes resending harmless. */
export const BudgetEventSchema = z.strictObject({
  eventId: z.string().min(1).max(200).describe("Unique per event on its deployment: a resent event is a duplicate."),
  deployment: z.string().min(1).max(200).optional().describe("Needed when the API key is not bound to a deployment."),
  kind: BudgetEventKindSchema,
  budgetId: z.string().min(1).max(80).describe("The budget's id (fleet budgets `fleet:<id>` as the plugin names them)."),
  periodStart: instant,
  at: instant,
  runId: optText(200),
  sessionKey: optText(500),
  sessionId: optText(200),
  agentId: optText(200),
  spentUsd: z.number().finite().nonnegative(),
  spentTokens: count,
  limitUsd: z.number().positive().finite().nullable().default(null),
  limitTokens: z.number().int().positive().nullable().default(null),
  /** For kind alert: the warnAt fraction, 1 (the limit) or "blocked". */
  threshold: z.union([z.number().gt(0).lte(1), z.literal("blocked")]).nullable().default(null),
  detail: optText(2000),
});
export type BudgetEvent = z.output<typeof BudgetEventSchema>;
export type BudgetEventInput = z.input<typeof BudgetEventSchema>;

export const BudgetEventBatchSchema = z.strictObject({ events: z.array(BudgetEventSchema).min(1).max(1000) });

/** A stored budget event (`GET /api/v1/budgets/events`): the shipped one with its deployment and session id resolved. */
export const StoredBudgetEventSchema = BudgetEventSchema.extend({ deployment: z.string(), receivedAt: instant });
export type StoredBudgetEvent = z.output<typeof StoredBudgetEventSchema>;

/** ok below the first warnAt fraction of every limit, exceeded at or above a limit, warn in between. */
export function budgetState(b: Pick<Budget, "limitUsd" | "limitTokens" | "warnAt">, spentNanos: number, spentTokens: number): BudgetState {
  const fractions: number[] = [];
  if (b.limitUsd !== undefined) fractions.push(spentNanos / (b.limitUsd * 1e9));
  if (b.limitTokens !== undefined) fractions.push(spentTokens / b.limitTokens);
  const used = Math.max(0, ...fractions);
  if (used >= 1) return "exceeded";
  const warn = b.warnAt.length ? Math.min(...b.warnAt) : 1;
  return used >= warn ? "warn" : "ok";
}

/** "scope.agent: …" from a zod error: the path of each bad field, for CLI and API messages. */
export function describeBudgetIssues(error: z.ZodError, prefix = ""): string {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join(".") || "(budget)"}: ${i.message}`).join("; ");
}

