/**
 * Who is asking, as far as the hub can tell: the client address (for sign-in lockouts and stream caps) and
 * whether the request came over https (for the cookie's Secure flag). X-Forwarded-For / X-Forwarded-Proto are
 * believed only when the operator says a reverse proxy fronts the hub (`--trust-proxy`), and then only their
 * last entry — the one the nearest proxy wrote; anything before it the client could have sent itself.
 */
import type { Context } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";

function lastListed(value: string | undefined): string | null {
  const last = value?.split(",").at(-1)?.trim();
  return last ? last : null;
}

/**
 * One client per IPv4 address and per IPv6 /64 (one host is usually given a whole /64, so counting single
 * IPv6 addresses would let it rotate through them).
 */
export function clientKey(address: string): string {
  const a = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (!a.includes(":")) return a;
  const [head = "", tail = ""] = a.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = a.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

export function requestClient(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = lastListed(c.req.header("x-forwarded-for"));
    if (forwarded) return clientKey(forwarded);
  }
  try {
    const address = getConnInfo(c).remote.address;
    if (address) return clientKey(address);
  } catch {
    // no socket (the app called in-process, as tests do)
  }
  return "unknown";
}

export function isHttpsRequest(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return trustProxy && lastListed(c.req.header("x-forwarded-proto"))?.toLowerCase() === "https";
}
