/** Human-readable tables for each report. */
import Table from "cli-table3";
import type { PeriodReport, SessionsReport, SummaryReport, ToolsReport, ModelRow, AgentRow, UsageJson } from "@clawtower/core";
import { fmtBytes, fmtCost, fmtInt, fmtPct, fmtUsd } from "./format.ts";

const TOKEN_HEAD = ["Calls", "Input", "Output", "Cache read", "Cache write", "Total tokens", "Cost"];

function usageCells(u: UsageJson): string[] {
  return [
    fmtInt(u.llmCalls),
    fmtInt(u.tokens.input),
    fmtInt(u.tokens.output),
    fmtInt(u.tokens.cacheRead),
    fmtInt(u.tokens.cacheWrite),
    fmtInt(u.tokens.total),
    fmtCost(u.cost, u.unpricedCalls),
  ];
}

function table(head: string[], numericFrom = 1): Table.Table {
  return new Table({
    head,
    // Colours only on a terminal: piped output must stay plain text.
    style: process.stdout.isTTY ? { head: ["cyan"], border: ["grey"] } : { head: [], border: [] },
    colAligns: head.map((_, i) => (i >= numericFrom ? "right" : "left")),
  });
}

function unpricedNote(u: UsageJson): string {
  return u.unpricedCalls > 0
    ? `\n${fmtInt(u.unpricedCalls)} call(s) (${fmtInt(u.unpricedTokens)} tokens) have no price: add the model's cost to OpenClaw's models.providers config to price them.`
    : "";
}

export function renderSummary(r: SummaryReport): string {
  const t = r.totals;
  const head = [
    `Sessions ${fmtInt(t.sessions)} · LLM calls ${fmtInt(t.llmCalls)} · Tool calls ${fmtInt(t.toolCalls)}`,
    `Tokens: input ${fmtInt(t.tokens.input)} · output ${fmtInt(t.tokens.output)} · cache read ${fmtInt(t.tokens.cacheRead)} · cache write ${fmtInt(t.tokens.cacheWrite)} · total ${fmtInt(t.tokens.total)}`,
    `Cost: ${fmtUsd(t.cost.total)} (recorded ${fmtUsd(t.cost.recorded)}, estimated ${fmtUsd(t.cost.estimated)})${t.unpricedCalls > 0 ? ` · unpriced calls ${fmtInt(t.unpricedCalls)}` : ""}`,
  ].join("\n");
  const models = table(["Provider / model", ...TOKEN_HEAD]);
  for (const m of r.byModel) models.push([`${m.provider}/${m.model}`, ...usageCells(m)]);
  const days = table(["Day", ...TOKEN_HEAD]);
  for (const d of r.byDay.slice(-14)) days.push([d.day, ...usageCells(d)]);
  const more = r.byDay.length > 14 ? `\n(last 14 of ${r.byDay.length} days; \`report daily\` lists all)` : "";
  return `${head}\n\nBy model\n${models.toString()}\n\nBy day (${r.filters.tz})\n${days.toString()}${more}${unpricedNote(t)}\n`;
}

export function renderPeriods(r: PeriodReport): string {
  const t = table([r.bucket === "day" ? "Day" : r.bucket === "week" ? "Week of" : "Month", "Models", ...TOKEN_HEAD], 2);
  for (const p of r.periods) t.push([p.period, p.models.map((m) => m.model).join("\n"), ...usageCells(p)]);
  t.push(["Total", "", ...usageCells(r.totals)]);
  return `${t.toString()}${unpricedNote(r.totals)}\n`;
}

export function renderModels(rows: ModelRow[], totals: UsageJson): string {
  const t = table(["Provider / model", "Sessions", ...TOKEN_HEAD, "Share", "$/1k tok", "Cache hit"]);
  for (const m of rows)
    t.push([`${m.provider}/${m.model}`, fmtInt(m.sessions), ...usageCells(m), fmtPct(m.costShare), m.costPer1kTokens === null ? "—" : fmtUsd(m.costPer1kTokens), fmtPct(m.cacheHitRate)]);
  return `${t.toString()}${unpricedNote(totals)}\n`;
}

export function renderAgents(rows: AgentRow[], totals: UsageJson): string {
  const t = table(["Agent", "Sessions", ...TOKEN_HEAD, "Share", "Cache hit"]);
  for (const a of rows) t.push([a.agentId, fmtInt(a.sessions), ...usageCells(a), fmtPct(a.costShare), fmtPct(a.cacheHitRate)]);
  return `${t.toString()}${unpricedNote(totals)}\n`;
}

export function renderSessions(r: SessionsReport): string {
  const t = table(["Last activity", "Agent", "Session", "Kind", "Msgs", "Calls", "Tools", "Errors", "Tokens", "Cost"], 4);
  for (const s of r.sessions) {
    const msgs = s.messages.user + s.messages.assistant + s.messages.toolResult + s.messages.other;
    t.push([
      s.lastActivity?.replace("T", " ").slice(0, 16) ?? "—",
      s.agentId,
      (s.label ?? s.sessionKey ?? s.sessionId).slice(0, 40) + (s.ended ? ` (${s.ended})` : s.present ? "" : " (gone)"),
      s.kind,
      fmtInt(msgs),
      fmtInt(s.llmCalls),
      fmtInt(s.toolCalls),
      fmtInt(s.errors + s.toolErrors),
      fmtInt(s.tokens.total),
      fmtCost(s.cost, s.unpricedCalls),
    ]);
  }
  const shown = r.sessions.length < r.total ? `\n${fmtInt(r.sessions.length)} of ${fmtInt(r.total)} sessions (use --limit to see more)` : "";
  return `${t.toString()}${shown}\n`;
}

export function renderTools(r: ToolsReport): string {
  const t = table(["Tool", "Calls", "Errors", "Error rate", "Avg result", "Max result"]);
  for (const x of r.tools)
    t.push([x.name, fmtInt(x.calls), fmtInt(x.errors), fmtPct(x.errorRate), fmtBytes(x.avgResultBytes), fmtBytes(x.maxResultBytes)]);
  return `${t.toString()}\n`;
}
