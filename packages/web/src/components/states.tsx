/**
 * Loading, empty and error states. Each says what happened and what to do next, in the reader's terms
 * (start OpenClaw, widen the range, restart the hub), not just that something went wrong.
 */
import type { ComponentChildren } from "preact";
import type { ApiError } from "../api/client.ts";

/** Placeholder blocks with the final content's height, so nothing jumps when data arrives. */
export function Skeleton(props: { lines?: number; height?: number }) {
  if (props.height) return <div class="skeleton" style={{ height: `${props.height}px` }} aria-hidden="true" />;
  return (
    <div aria-hidden="true">
      {Array.from({ length: props.lines ?? 3 }, (_, i) => (
        <div key={i} class="skeleton skeleton-line" />
      ))}
    </div>
  );
}

export function errorAdvice(error: ApiError): string {
  if (error.status === 0) return "Check that `clawtower serve` is still running, then retry.";
  if (error.status === 400) return "Pick another range or time zone; the hub rejected this one.";
  if (error.status === 401) return "Sign in again with the admin token or an API key.";
  if (error.status === 403) return "Open the dashboard through 127.0.0.1 or localhost.";
  if (error.status === 404) return "It may have been removed, or the link is mistyped.";
  return "The hub's log has the details (look for the error id). Retry in a moment.";
}

export function ErrorNotice(props: { error: ApiError; retry?: () => void; what?: string }) {
  return (
    <div class="notice notice-error" role="alert">
      <p>
        <strong>{props.what ? `Could not load ${props.what}.` : "Could not load this."}</strong> {props.error.message}
      </p>
      <p class="muted">{errorAdvice(props.error)}</p>
      {props.retry ? (
        <button type="button" class="btn" onClick={props.retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function EmptyNotice(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="notice notice-empty">
      <p>
        <strong>{props.title}</strong>
      </p>
      {props.children}
    </div>
  );
}
