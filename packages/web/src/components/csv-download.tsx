/**
 * "Download CSV" for a dashboard table: the rows the table shows (raw numbers, not their formatted text),
 * written by the same RFC 4180 writer as `clawtower report --csv`, saved client-side.
 */
import { toCsv, type CsvCell } from "../../../core/src/reports/csv.ts";
import type { Usage } from "../api/types.ts";

export type CsvTable = { filename: string; header: string[]; rows: () => CsvCell[][] };

export const USAGE_CSV_HEADER = [
  "llm_calls",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "total_tokens",
  "cost_recorded_usd",
  "cost_estimated_usd",
  "cost_usd",
  "unpriced_calls",
  "unpriced_tokens",
];

export function usageCsvCells(u: Usage): CsvCell[] {
  return [u.llmCalls, u.tokens.input, u.tokens.output, u.tokens.cacheRead, u.tokens.cacheWrite, u.tokens.total, u.cost.recorded, u.cost.estimated, u.cost.total, u.unpricedCalls, u.unpricedTokens];
}

export function CsvDownload(props: CsvTable & { testId?: string }) {
  const save = () => {
    const blob = new Blob([toCsv(props.header, props.rows())], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = props.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div class="csv-download">
      <button type="button" class="btn btn-small" onClick={save} data-testid={props.testId ?? "csv-download"} title={`Download this table as ${props.filename}`}>
        Download CSV
      </button>
    </div>
  );
}
