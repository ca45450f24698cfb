/** A thin horizontal bar for a 0–1 share inside a table cell, with the percentage as text. */
import { formatPercent } from "../format.ts";

export function ShareBar(props: { ratio: number | null; label?: string }) {
  const pct = props.ratio === null ? 0 : Math.max(0, Math.min(1, props.ratio)) * 100;
  return (
    <span class="share">
      <span class="share-track" aria-hidden="true">
        <span class="share-fill" style={{ width: `${pct}%` }} />
      </span>
      <span class="share-text">{props.label ?? formatPercent(props.ratio)}</span>
    </span>
  );
}
