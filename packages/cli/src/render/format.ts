/** Number and money formatting for tables (JSON output carries the raw numbers). */
// Made on first use: the first Intl formatter costs ~20 ms of ICU start-up, which `--json` never needs.
let int: Intl.NumberFormat | undefined;

export function fmtInt(n: number): string {
  return (int ??= new Intl.NumberFormat("en-US")).format(n);
}

/** Dollars with cents, or more digits for small amounts so they never read as $0.00. */
export function fmtUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (Math.abs(usd) < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function fmtBytes(b: number | null): string {
  if (b === null) return "—";
  if (b < 1024) return `${b} B`;
  // Binary units, named as such (the dashboard says KiB / MiB too).
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtPct(x: number | null): string {
  return x === null ? "—" : `${(x * 100).toFixed(1)}%`;
}

/** Cost cell: the priced total, plus how many calls could not be priced (never a silent $0). */
export function fmtCost(cost: { total: number; estimated: number }, unpricedCalls: number): string {
  let s = fmtUsd(cost.total);
  if (cost.estimated > 0) s += cost.estimated === cost.total ? " (est.)" : ` (${fmtUsd(cost.estimated)} est.)`;
  if (unpricedCalls > 0) s += ` + ${fmtInt(unpricedCalls)} unpriced`;
  return s;
}
