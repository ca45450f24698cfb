/**
 * The dashboard's only door to the hub: GET JSON with query parameters, one error type for every failure
 * (HTTP error bodies `{error:{code,message}}`, unreachable hub, non-JSON answer), and the login call.
 * Requests are same-origin, so the HttpOnly token cookie set by /api/v1/auth/login rides along.
 */
import type { ApiErrorBody } from "./types.ts";

export type QueryParams = Record<string, string | number | null | undefined>;

export class ApiError extends Error {
  /** HTTP status; 0 when the hub could not be reached at all. */
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** `/api/v1/x` + the non-empty parameters, in a stable order (the URL doubles as a cache key). */
export function apiUrl(path: string, params: QueryParams = {}): string {
  const q = new URLSearchParams();
  for (const key of Object.keys(params).sort()) {
    const v = params[key];
    if (v !== null && v !== undefined && v !== "") q.set(key, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever the hub answers 401, so the app can show its login form wherever the call came from. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

async function errorFrom(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as ApiErrorBody | null;
  const code = body?.error?.code ?? `http_${res.status}`;
  const message = body?.error?.message ?? `the hub answered ${res.status} ${res.statusText}`;
  return new ApiError(res.status, code, message);
}

export async function getJson<T>(url: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "unreachable", "The hub did not answer. Is `clawtower serve` still running?");
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (err.unauthorized) for (const l of unauthorizedListeners) l();
    throw err;
  }
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError(res.status, "bad_response", `${url} did not answer JSON`);
  }
}

/** Exchanges an admin token or API key for the hub's session cookie. */
export async function login(token: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ token }),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "unreachable", "The hub did not answer. Is `clawtower serve` still running?");
  }
  if (!res.ok) throw await errorFrom(res);
}

/** Ends the hub's sign-in session (the cookie is HttpOnly, so only the hub can drop it). */
export async function logout(): Promise<void> {
  let res: Response;
  try {
    res = await fetch("/api/v1/auth/logout", { method: "POST", headers: { accept: "application/json" }, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "unreachable", "The hub did not answer. Is `clawtower serve` still running?");
  }
  if (!res.ok) throw await errorFrom(res);
}
