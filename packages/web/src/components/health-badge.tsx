/** A session's health (store's sessionHealth): a badge for the list, and the signals in full for the replay. */
import type { SessionHealth } from "../api/types.ts";
import { formatInt, formatPercent } from "../format.ts";

const FLAG_TEXT: Record<SessionHealth["flags"][number], string> = {
  errored: "LLM calls ended in an error",
  aborted: "LLM calls were aborted",
  "tool-errors": "a quarter or more of ≥ 4 tool calls failed",
  "tool-loop": "the same tool with the same arguments 3 or more times in a row",
  retries: "calls retried after an error",
  "context-bloat": "the prompt grew to twice its first size or more without a compaction",
};

export function HealthBadge(props: { health: SessionHealth }) {
  const h = props.health;
  const title = h.flags.length ? h.flags.map((f) => FLAG_TEXT[f]).join("; ") : "no problem signals";
  const cls = h.status === "bad" ? "tag-bad" : h.status === "warn" ? "tag-warn" : "tag-ok";
  return (
    <span class={`tag ${cls} health`} title={title} data-health={h.status} data-flags={h.flags.join(" ")}>
      {h.status === "ok" ? "ok" : h.flags.join(", ")}
    </span>
  );
}

export function HealthFacts(props: { health: SessionHealth }) {
  const h = props.health;
  return (
    <dl class="facts" data-testid="session-health">
      <dt>Health</dt>
      <dd>
        <HealthBadge health={h} />
      </dd>
      <dt>Errored / aborted calls</dt>
      <dd>
        {formatInt(h.errored)} / {formatInt(h.aborted)}
      </dd>
      <dt>Retries</dt>
      <dd>{formatInt(h.retries)}</dd>
      <dt>Tool errors</dt>
      <dd>
        {formatInt(h.toolErrors)} of {formatInt(h.toolCalls)} ({formatPercent(h.toolErrorRatio)})
      </dd>
      <dt>Longest tool repeat</dt>
      <dd>{h.toolLoop ? `${h.toolLoop.tool ?? "(unnamed)"} × ${h.toolLoop.length}` : "—"}</dd>
      <dt>Prompt growth</dt>
      <dd>
        {h.context ? `${formatInt(h.context.firstPromptTokens)} → ${formatInt(h.context.maxPromptTokens)} tokens` : "—"}
        {h.compactions > 0 ? ` (${formatInt(h.compactions)} compaction${h.compactions > 1 ? "s" : ""})` : ""}
      </dd>
    </dl>
  );
}
