/**
 * `clawtower alerts add|list|rm|test|history`: alert rules in the store. A running hub evaluates them as data
 * arrives and sends their notices; `test` sends a sample through a rule's channels from here.
 */
import { AlertRuleInputSchema, bmasteraiPreset, describeRuleIssues, type AlertChannel, type AlertRule, type AlertRuleInput } from "@clawtower/core";
import { AlertRuleError, addAlertRule, alertHistory, channelHealth, findAlertRule, instancesInState, listAlertRules, openStore, removeAlertRule } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { UsageError } from "../errors.ts";

export type AlertsOptions = {
  db?: string;
  json?: boolean;
  name?: string;
  kind?: string;
  severity?: string;
  preset?: string;
  for?: string;
  above?: string;
  window?: string;
  tz?: string;
  factor?: string;
  baseline?: string;
  minUsd?: string;
  windowMinutes?: string;
  minCalls?: string;
  repeats?: string;
  growing?: string;
  idle?: string;
  budget?: string;
  states?: string;
  deployment?: string;
  agent?: string;
  channel?: string;
  sessionKind?: string;
  model?: string;
  notify?: string[];
  secret?: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  disabled?: boolean;
};

/** "30s", "5m", "4h", "1d", "250ms" or plain milliseconds. */
export function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag}: a duration such as 30s, 5m, 4h (got ${v})`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "ms"]!;
  return Math.round(Number(m[1]) * unit);
}

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: a number (got ${v})`);
  return n;
}

/** `--notify webhook:https://…` or `--notify slack:https://hooks.slack.com/…`. */
function channelsFrom(o: AlertsOptions): AlertChannel[] {
  return (o.notify ?? []).map((spec) => {
    const i = spec.indexOf(":");
    const type = spec.slice(0, i);
    if (i < 0 || (type !== "webhook" && type !== "slack")) throw new UsageError(`--notify: webhook:URL or slack:URL (got ${spec})`);
    const ch: Record<string, unknown> = { type, url: spec.slice(i + 1) };
    if (o.secret && type === "webhook") ch["secret"] = o.secret;
    if (o.groupWait) ch["groupWaitMs"] = parseDuration(o.groupWait, "--group-wait");
    if (o.groupInterval) ch["groupIntervalMs"] = parseDuration(o.groupInterval, "--group-interval");
    if (o.repeatInterval) ch["repeatIntervalMs"] = parseDuration(o.repeatInterval, "--repeat-interval");
    return ch as AlertChannel;
  });
}

/** The flags of `alerts add` as a rule (validated by the one schema). */
export function ruleFromFlags(o: AlertsOptions): AlertRuleInput {
  if (!o.name) throw new UsageError("alerts add needs --name (or --preset bmasterai)");
  if (!o.kind) throw new UsageError("alerts add needs --kind (session-cost, session-tokens, window-spend, spend-spike, error-rate, tool-error-rate, tool-loop, context-bloat, stuck-session, budget)");
  const above = num(o.above, "--above");
  const c: Record<string, unknown> = { kind: o.kind };
  const put = (k: string, v: unknown) => {
    if (v !== undefined) c[k] = v;
  };
  switch (o.kind) {
    case "session-cost":
      put("aboveUsd", above);
      break;
    case "session-tokens":
      put("aboveTokens", above);
      break;
    case "window-spend":
      put("window", o.window);
      put("tz", o.tz);
      put("aboveUsd", above);
      break;
    case "spend-spike":
      put("window", o.window);
      put("tz", o.tz);
      put("factor", num(o.factor, "--factor"));
      put("baselineWindows", num(o.baseline, "--baseline"));
      put("minUsd", num(o.minUsd, "--min-usd"));
      break;
    case "error-rate":
    case "tool-error-rate":
      put("aboveRatio", above);
      put("windowMinutes", num(o.windowMinutes, "--window-minutes"));
      put("minCalls", num(o.minCalls, "--min-calls"));
      break;
    case "tool-loop":
      put("repeats", num(o.repeats, "--repeats"));
      break;
    case "context-bloat":
      put("abovePromptTokens", above);
      put("growingCalls", num(o.growing, "--growing"));
      break;
    case "stuck-session":
      put("idleMinutes", num(o.idle, "--idle"));
      break;
    case "budget":
      put("budget", o.budget);
      if (o.states) c["states"] = o.states.split(",").map((s) => s.trim()).filter(Boolean);
      break;
  }
  const scope: Record<string, string> = {};
  for (const [k, v] of [["deployment", o.deployment], ["agent", o.agent], ["channel", o.channel], ["sessionKind", o.sessionKind], ["model", o.model]] as const) if (v) scope[k] = v;
  const input = {
    name: o.name,
    condition: c,
    scope,
    channels: channelsFrom(o),
    ...(o.severity ? { severity: o.severity } : {}),
    ...(o.for ? { forMs: parseDuration(o.for, "--for") } : {}),
    ...(o.disabled ? { enabled: false } : {}),
  };
  const parsed = AlertRuleInputSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`alerts add: ${describeRuleIssues(parsed.error)}`);
  return input as AlertRuleInput;
}

function describeCondition(r: AlertRule): string {
  const c = r.condition;
  switch (c.kind) {
    case "session-cost":
      return `session cost > $${c.aboveUsd}`;
    case "session-tokens":
      return `session tokens > ${c.aboveTokens}`;
    case "window-spend":
      return `spend per ${c.window} (${c.tz}) > $${c.aboveUsd}`;
    case "spend-spike":
      return `spend per ${c.window} (${c.tz}) > ${c.factor} × mean of previous ${c.baselineWindows}, at least $${c.minUsd}`;
    case "error-rate":
    case "tool-error-rate":
      return `${c.kind === "error-rate" ? "LLM" : "tool"} error rate over ${c.windowMinutes} min > ${c.aboveRatio} (≥ ${c.minCalls} calls)`;
    case "tool-loop":
      return `same tool call ${c.repeats}× in a row`;
    case "context-bloat":
      return [c.abovePromptTokens !== undefined ? `prompt > ${c.abovePromptTokens} tokens` : null, c.growingCalls !== undefined ? `prompt growing ${c.growingCalls} calls without compaction` : null].filter(Boolean).join(" or ");
    case "stuck-session":
      return `mid-turn session idle ≥ ${c.idleMinutes} min`;
    case "budget":
      return `budget ${c.budget ?? "(any)"} enters ${c.states.join("/")}`;
  }
}

export async function runAlerts(action: string, arg: string | undefined, o: AlertsOptions): Promise<number> {
  const specs = action === "add" ? (o.preset ? presetSpecs(o) : [ruleFromFlags(o)]) : [];
  const cfg = resolveLocalConfig({ db: o.db });
  const conn = await openStore(cfg.store);
  try {
    if (action === "add") {
      const added: AlertRule[] = [];
      for (const spec of specs) {
        try {
          added.push(await addAlertRule(conn, spec, Date.now()));
        } catch (e) {
          if (e instanceof AlertRuleError) throw new UsageError(`alerts add: ${e.message}`);
          throw e;
        }
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ schemaVersion: 1, rules: added }, null, 2)}\n`);
      else
        for (const r of added) {
          process.stdout.write(`added ${r.name} (${r.id}): ${r.severity}, ${describeCondition(r)}\n`);
          for (const ch of r.channels) if (ch.type === "webhook") process.stdout.write(`  webhook ${ch.url} signing secret: ${ch.secret}\n`);
        }
      return 0;
    }
    if (action === "list") {
      const rules = await listAlertRules(conn);
      const live = await instancesInState(conn, ["pending", "firing"]);
      const health = await channelHealth(conn);
      if (o.json) {
        const out = rules.map((r) => ({
          ...r,
          channels: r.channels.map((ch) => ({ ...ch, ...(ch.secret ? { secret: "********" } : {}) })),
          firing: live.filter((i) => i.ruleId === r.id && i.state === "firing"),
          pending: live.filter((i) => i.ruleId === r.id && i.state === "pending"),
          channelHealth: health.filter((h) => h.ruleId === r.id),
        }));
        process.stdout.write(`${JSON.stringify({ schemaVersion: 1, rules: out }, null, 2)}\n`);
        return 0;
      }
      if (rules.length === 0) process.stdout.write("no alert rules (add one with: clawtower alerts add --name … --kind …, or --preset bmasterai)\n");
      for (const r of rules) {
        const firing = live.filter((i) => i.ruleId === r.id && i.state === "firing").length;
        const pending = live.filter((i) => i.ruleId === r.id && i.state === "pending").length;
        const scope = Object.entries(r.scope).map(([k, v]) => `${k}=${v}`).join(" ") || "everything";
        process.stdout.write(`${r.name}  ${r.id}  ${r.enabled ? "" : "(disabled) "}${r.severity}  ${describeCondition(r)}  scope: ${scope}  firing=${firing} pending=${pending}\n`);
        r.channels.forEach((ch, i) => {
          const h = health.find((x) => x.ruleId === r.id && x.channel === i);
          const status = h ? `${h.status}${h.pending ? ` (${h.pending} queued)` : ""}${h.lastError ? `: ${h.lastError}` : ""}` : "nothing sent yet";
          process.stdout.write(`  → ${ch.type} ${new URL(ch.url).origin}  ${status}\n`);
        });
      }
      return 0;
    }
    if (action === "rm") {
      if (!arg) throw new UsageError("alerts rm needs a rule name or id (see clawtower alerts list)");
      if (!(await removeAlertRule(conn, arg))) {
        process.stderr.write(`clawtower: no alert rule ${arg}\n`);
        return 1;
      }
      process.stdout.write(`removed ${arg}\n`);
      return 0;
    }
    if (action === "test") {
      if (!arg) throw new UsageError("alerts test needs a rule name or id");
      const rule = await findAlertRule(conn, arg);
      if (!rule) {
        process.stderr.write(`clawtower: no alert rule ${arg}\n`);
        return 1;
      }
      if (rule.channels.length === 0) {
        process.stderr.write(`clawtower: rule ${rule.name} has no channels (add one with --notify)\n`);
        return 1;
      }
      const { sampleNotice, sendNotice } = await import("@clawtower/hub");
      let failed = 0;
      for (const [i, ch] of rule.channels.entries()) {
        try {
          await sendNotice(ch, sampleNotice(rule, i, Date.now()), Date.now());
          process.stdout.write(`sent a test notice to ${ch.type} ${new URL(ch.url).origin}\n`);
        } catch (e) {
          failed++;
          process.stderr.write(`clawtower: test notice to ${ch.type} failed: ${(e as Error).message}\n`);
        }
      }
      return failed ? 1 : 0;
    }
    if (action === "history") {
      const rule = arg ? await findAlertRule(conn, arg) : null;
      if (arg && !rule) {
        process.stderr.write(`clawtower: no alert rule ${arg}\n`);
        return 1;
      }
      const events = await alertHistory(conn, rule?.id ?? null, 200);
      if (o.json) process.stdout.write(`${JSON.stringify({ schemaVersion: 1, events }, null, 2)}\n`);
      else for (const e of events) process.stdout.write(`${new Date(e.at).toISOString()}  ${e.ruleId}  ${e.key || "(window)"}  ${e.from ?? "-"} → ${e.to}  value=${e.value}\n`);
      return 0;
    }
    throw new UsageError(`unknown alerts action ${action}`);
  } finally {
    await conn.close();
  }
}

function presetSpecs(o: AlertsOptions): AlertRuleInput[] {
  if (o.preset !== "bmasterai") throw new UsageError(`--preset: bmasterai is the one preset (got ${o.preset})`);
  return bmasteraiPreset(channelsFrom(o), o.tz ?? "UTC");
}
