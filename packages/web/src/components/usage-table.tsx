/**
 * Usage per model or per agent: calls, tokens, cost with its unpriced part, share of cost, cost per 1k
 * tokens (priced tokens only, as the API computes it), cache hit rate and sessions, with a totals row.
 */
import type { ComponentChildren } from "preact";
import type { Shares, Usage } from "../api/types.ts";
import { cacheHitRate, formatInt, formatPercent, formatUsd } from "../format.ts";
import { CsvDownload, USAGE_CSV_HEADER, usageCsvCells } from "./csv-download.tsx";
import type { CsvCell } from "../../../core/src/reports/csv.ts";
import { Money } from "./money.tsx";
import { ShareBar } from "./share-bar.tsx";

/** `csvId`: the row's identifying cells in a CSV download (under the table's `csvIdHeader`). */
export type UsageTableRow = Usage & Shares & { key: string; name: ComponentChildren; csvId: CsvCell[] };

export function UsageTable(props: { caption: string; nameHeader: string; rows: UsageTableRow[]; totals: Usage; testId?: string; csvFile: string; csvIdHeader: string[] }) {
  const t = props.totals;
  return (
    <>
    <CsvDownload
      filename={props.csvFile}
      header={[...props.csvIdHeader, ...USAGE_CSV_HEADER, "cost_share", "cost_per_1k_tokens_usd", "cache_hit_rate", "sessions"]}
      rows={() => props.rows.map((r) => [...r.csvId, ...usageCsvCells(r), r.costShare, r.costPer1kTokens, r.cacheHitRate, r.sessions])}
      {...(props.testId ? { testId: `${props.testId}-csv` } : {})}
    />
    <div class="table-scroll">
      <table class="data" data-testid={props.testId}>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{props.nameHeader}</th>
            <th scope="col" class="num">LLM calls</th>
            <th scope="col" class="num">Tokens</th>
            <th scope="col" class="num">Cost</th>
            <th scope="col" class="share-col">Share of cost</th>
            <th scope="col" class="num" title="US dollars per 1,000 priced tokens">$ / 1k tokens</th>
            <th scope="col" class="num" title="cache read ÷ (input + cache read + cache write)">Cache hits</th>
            <th scope="col" class="num" title="Sessions active in the range (for a model: that called it in the range)">Sessions</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.key} data-row={r.key}>
              <th scope="row">{r.name}</th>
              <td class="num">{formatInt(r.llmCalls)}</td>
              <td class="num" title={`input ${formatInt(r.tokens.input)} · output ${formatInt(r.tokens.output)} · cache read ${formatInt(r.tokens.cacheRead)} · cache write ${formatInt(r.tokens.cacheWrite)}`}>
                {formatInt(r.tokens.total)}
              </td>
              <td class="num">
                <Money usd={r.cost.total} unpricedCalls={r.unpricedCalls} unpricedTokens={r.unpricedTokens} />
              </td>
              <td class="share-col">
                <ShareBar ratio={r.costShare} label={r.costShare === null ? (r.unpricedCalls > 0 ? "unpriced" : "—") : undefined} />
              </td>
              <td class="num">{r.costPer1kTokens === null ? (r.unpricedCalls > 0 ? <span class="unpriced">unpriced</span> : "—") : formatUsd(r.costPer1kTokens)}</td>
              <td class="num">{formatPercent(r.cacheHitRate)}</td>
              <td class="num">{formatInt(r.sessions)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td class="num">{formatInt(t.llmCalls)}</td>
            <td class="num">{formatInt(t.tokens.total)}</td>
            <td class="num">
              <Money usd={t.cost.total} unpricedCalls={t.unpricedCalls} unpricedTokens={t.unpricedTokens} />
            </td>
            <td class="share-col" />
            <td class="num" />
            <td class="num">{formatPercent(cacheHitRate(t.tokens))}</td>
            <td class="num" />
          </tr>
        </tfoot>
      </table>
    </div>
    </>
  );
}
