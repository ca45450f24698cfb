/**
 * One error family for the hub: every failure a client can cause is a HubError with a stable code and an
 * HTTP status, rendered once (in app.ts) as `{ "error": { "code", "message" } }`. Anything else is a 500
 * with an id that is also logged.
 */
export type ErrorCode =
  | "bad_request"
  | "invalid_query"
  | "invalid_body"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "payload_too_large"
  | "unsupported_media_type"
  | "storage_full"
  | "too_many_requests"
  | "unavailable"
  | "internal";

type Status = 400 | 401 | 403 | 404 | 413 | 415 | 429 | 500 | 503;

const STATUS: Record<ErrorCode, Status> = {
  bad_request: 400,
  invalid_query: 400,
  invalid_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  storage_full: 503,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

export class HubError extends Error {
  readonly code: ErrorCode;
  readonly status: Status;
  /** Seconds for a `Retry-After` header (429 / 503). */
  readonly retryAfterSeconds: number | null;
  constructor(code: ErrorCode, message: string, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = "HubError";
    this.code = code;
    this.status = STATUS[code];
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}
