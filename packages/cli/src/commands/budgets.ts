/**
 * `clawtower budgets set|list|rm`: fleet budgets in the store (the hub serves them to gateways). `set` takes the
 * budget's JSON shape from a file (or `-` for stdin) or flags; a bad field is named by its path.
 */
import fs from "node:fs";
import { BUDGET_SCOPE_KEYS, formatBudgetInstant, type EffectiveBudget } from "@clawtower/core";
import { BudgetValidationError, effectiveBudgets, openStore, removeBudget, setBudget } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { UsageError } from "../errors.ts";

export type BudgetsOptions = {
  db?: string;
  json?: boolean;
  id?: string;
  deployment?: string;
  scope?: string[];
  period?: string;
  tz?: string;
  limitUsd?: string;
  limitTokens?: string;
  warnAt?: string;
  action?: string;
  downgradeTo?: string;
  message?: string;
};

const number = (flag: string, v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number (got "${v}")`);
  return n;
};

/** The budget object the flags describe (validated by the store like any other input). */
export function budgetFromFlags(o: BudgetsOptions): Record<string, unknown> {
  const scope: Record<string, string> = {};
  for (const pair of (o.scope ?? []).flatMap((s) => s.split(","))) {
    const at = pair.indexOf("=");
    const key = at > 0 ? pair.slice(0, at).trim() : "";
    if (!(BUDGET_SCOPE_KEYS as readonly string[]).includes(key)) throw new UsageError(`--scope: "${pair}" is not key=value with a key of ${BUDGET_SCOPE_KEYS.join(", ")}`);
    scope[key] = pair.slice(at + 1).trim();
  }
  const b: Record<string, unknown> = { id: o.id, scope, period: o.period };
  if (o.deployment !== undefined) b["deployment"] = o.deployment;
  if (o.tz !== undefined) b["timeZone"] = o.tz;
  if (o.limitUsd !== undefined) b["limitUsd"] = number("--limit-usd", o.limitUsd);
  if (o.limitTokens !== undefined) b["limitTokens"] = number("--limit-tokens", o.limitTokens);
  if (o.warnAt !== undefined) b["warnAt"] = o.warnAt.split(",").map((x) => number("--warn-at", x));
  if (o.action !== undefined) b["action"] = o.action;
  if (o.downgradeTo !== undefined) b["downgradeTo"] = o.downgradeTo;
  if (o.message !== undefined) b["message"] = o.message;
  return b;
}

function readBudgetFile(file: string): unknown {
  let text: string;
  try {
    text = file === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
  }
}

const usd = (nanos: number) => `$${(nanos / 1e9).toFixed(nanos < 1e9 ? 4 : 2)}`;

function line(e: EffectiveBudget): string {
  const b = e.budget;
  const limits = [b.limitUsd !== undefined ? `${usd(e.spend.nanos)} of $${b.limitUsd}` : null, b.limitTokens !== undefined ? `${e.spend.tokens} of ${b.limitTokens} tokens` : null].filter(Boolean).join(", ");
  const scope = Object.entries(b.scope).map(([k, v]) => `${k}=${v}`).join(",") || "everything";
  const unpriced = e.spend.unpricedCalls ? ` (+${e.spend.unpricedTokens} tokens in ${e.spend.unpricedCalls} unpriced calls)` : "";
  return `${b.id}  ${e.state.padEnd(8)} ${limits}${unpriced}  deployment=${b.deployment} scope=${scope} ${b.period} (${b.timeZone}) action=${b.action}${b.downgradeTo ? `→${b.downgradeTo}` : ""} resets ${formatBudgetInstant(e.resetsAt, b.timeZone)} deployments=${e.byDeployment.map((d) => d.deployment).join(",") || "-"}`;
}

export async function runBudgets(action: string, arg: string | undefined, o: BudgetsOptions): Promise<number> {
  const input = action === "set" ? (arg !== undefined ? readBudgetFile(arg) : budgetFromFlags(o)) : null;
  if (action === "set" && arg !== undefined && (o.id || o.period || o.scope)) throw new UsageError("budgets set: give a JSON file or flags, not both");
  if (action === "rm" && !arg) throw new UsageError("budgets rm needs a budget id (see clawtower budgets list)");
  const cfg = resolveLocalConfig({ db: o.db });
  const conn = await openStore(cfg.store);
  try {
    if (action === "set") {
      try {
        const b = await setBudget(conn, input, Date.now());
        if (o.json) process.stdout.write(`${JSON.stringify({ schemaVersion: 1, budget: b }, null, 2)}\n`);
        else process.stdout.write(`set budget ${b.id} (deployment ${b.deployment}, ${b.period} in ${b.timeZone})\n`);
        return 0;
      } catch (e) {
        if (e instanceof BudgetValidationError) throw new UsageError(e.message);
        throw e;
      }
    }
    if (action === "list") {
      const r = await effectiveBudgets(conn, o.deployment ?? null, Date.now());
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.budgets.length === 0) process.stdout.write("no fleet budgets (add one with: clawtower budgets set --id … --period day --limit-usd 5)\n");
      else for (const e of r.budgets) process.stdout.write(`${line(e)}\n`);
      return 0;
    }
    if (action === "rm") {
      if (!(await removeBudget(conn, arg!))) {
        process.stderr.write(`clawtower: no budget ${arg}\n`);
        return 1;
      }
      process.stdout.write(`removed budget ${arg}\n`);
      return 0;
    }
    throw new UsageError(`unknown budgets action "${action}" (set, list, rm)`);
  } finally {
    await conn.close();
  }
}
