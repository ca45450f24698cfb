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
  | "internal";

const STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 413 | 415 | 500> = {
  bad_request: 400,
  invalid_query: 400,
  invalid_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
};

export class HubError extends Error {
  readonly code: ErrorCode;
  readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 500;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "HubError";
    this.code = code;
    this.status = STATUS[code];
  }
}

export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}
