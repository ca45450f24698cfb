/**
 * A budget's spend projected to its period's end from the period's run rate so far:
 * projected = spent × (periodEnd − periodStart) / (now − periodStart). Null in the first 5 % of the period,
 * when the rate says little. Pure.
 */
export function projectedAtEnd(spent: number, periodStart: number, periodEnd: number, now: number): number | null {
  const elapsed = Math.min(now, periodEnd) - periodStart;
  const length = periodEnd - periodStart;
  if (length <= 0 || elapsed < length * 0.05) return null;
  return (spent * length) / elapsed;
}
