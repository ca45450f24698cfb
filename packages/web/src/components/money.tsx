/**
 * A cost as text: the priced amount, "unpriced" when nothing had a price, and a visible note when part of
 * the usage has no price — so a cheap-looking number is never silently missing the unpriced part.
 */
import { costNote, formatCost, formatInt } from "../format.ts";

export function Money(props: { usd: number; unpricedCalls: number; unpricedTokens?: number; compact?: boolean }) {
  const note = costNote(props.unpricedCalls);
  const title = props.unpricedCalls > 0 ? `${formatInt(props.unpricedCalls)} call(s)${props.unpricedTokens !== undefined ? ` and ${formatInt(props.unpricedTokens)} tokens` : ""} have no price and are not in this amount` : undefined;
  return (
    <span class="money" title={title}>
      <span class={props.usd === 0 && props.unpricedCalls > 0 ? "unpriced" : undefined}>{formatCost(props.usd, props.unpricedCalls)}</span>
      {note && !props.compact ? <span class="unpriced-note">{note}</span> : null}
      {note && props.compact && props.usd > 0 ? <span class="unpriced-mark" aria-label={note}>+?</span> : null}
    </span>
  );
}
