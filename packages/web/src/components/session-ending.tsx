/** A small badge for a session that OpenClaw deleted or reset (only its archive is left), or that is gone from the home. */
import type { SessionRow } from "../api/types.ts";

export function endingOf(r: Pick<SessionRow, "ended" | "present">): { label: string; title: string } | null {
  if (r.ended === "deleted") return { label: "deleted", title: "Deleted in OpenClaw: only its archive is left" };
  if (r.ended === "reset") return { label: "reset", title: "Reset in OpenClaw: this is the history before the reset" };
  if (!r.present) return { label: "gone", title: "No longer in the OpenClaw home (kept in the store)" };
  return null;
}

export function SessionEndingBadge(props: { row: Pick<SessionRow, "ended" | "present"> }) {
  const e = endingOf(props.row);
  return e ? (
    <span class={`tag tag-muted session-ending ending-${e.label}`} title={e.title} data-ending={e.label}>
      {e.label}
    </span>
  ) : null;
}
