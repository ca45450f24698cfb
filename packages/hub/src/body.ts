/**
 * Request bodies, read as bytes with a size limit.
 *
 * Why not hono's `bodyLimit` + `c.req.text()`: that middleware touches `c.req.raw.body`, which makes
 * @hono/node-server wrap the Node request in a WHATWG Request, so every body then went through web streams
 * and was decoded as one large string (V8 makes a string of several hundred KiB at ~330 MiB/s here, lines of
 * a few KiB at ~1.7 GiB/s). Under ingest that was ~8 % of the hub's CPU. Here the Node stream is read
 * directly and an NDJSON body is decoded line by line.
 */
import type { IncomingMessage } from "node:http";
import { jsonBytes } from "@clawtower/core";
import type { Context, MiddlewareHandler } from "hono";
import { HubError } from "./errors.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The route's body limit in bytes, set by bodyLimit for readBody (unset: no limit). */
    clawtowerBodyLimit: number | undefined;
  }
}

function tooLarge(max: number): HubError {
  return new HubError("payload_too_large", `request body is larger than ${max} bytes`);
}

/** Rejects a declared `content-length` over `max` before anything is read; readBody enforces `max` while reading. */
export function bodyLimit(max: number): MiddlewareHandler {
  return async (c, next) => {
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > max) throw tooLarge(max);
    c.set("clawtowerBodyLimit", max);
    await next();
  };
}

/** The Node request under a @hono/node-server context; undefined under `app.request()` (tests) and other runtimes. */
function nodeRequest(c: Context): IncomingMessage | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  return env?.incoming && typeof env.incoming.on === "function" ? env.incoming : undefined;
}

/** The whole body, at most the route's limit (bodyLimit) of bytes: a larger one is a 413 and is not kept. */
export async function readBody(c: Context): Promise<Buffer> {
  const max = c.get("clawtowerBodyLimit") ?? Infinity;
  const incoming = nodeRequest(c);
  if (!incoming) {
    const buf = Buffer.from(await c.req.arrayBuffer());
    if (buf.length > max) throw tooLarge(max);
    return buf;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (f: () => void) => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      f();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        // Discard the rest (memory stays bounded) so that the 413 can still be written on this connection.
        done(() => reject(tooLarge(max)));
        incoming.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(() => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    const onError = (e: Error) => done(() => reject(e));
    // After "end" the listeners are gone: a "close" still listened to means the body never completed.
    const onClose = () => done(() => reject(new Error("client closed the connection before the body was complete")));
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/** Where the text starts: after a UTF-8 byte order mark, which TextDecoder would also drop. */
function textStart(buf: Buffer): number {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
}

export function bodyText(buf: Buffer): string {
  return buf.toString("utf8", textStart(buf));
}

/** The non-blank lines of an NDJSON body with their 1-based line numbers, as views of the body's bytes. */
export function ndjsonLines(buf: Buffer): { bytes: Buffer; number: number }[] {
  const lines: { bytes: Buffer; number: number }[] = [];
  let start = textStart(buf);
  for (let number = 1; start <= buf.length; number++) {
    const nl = buf.indexOf(10, start);
    const next = nl < 0 ? buf.length + 1 : nl + 1;
    // CRLF: the CR is whitespace to JSON, but a control character to the ingest fast path (event-line.ts).
    const end = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl < 0 ? buf.length : nl;
    const bytes = buf.subarray(start, end);
    if (jsonBytes.skipWhitespace(bytes, 0) < bytes.length) lines.push({ bytes, number });
    start = next;
  }
  return lines;
}

/** The body as JSON; text that is not JSON is a 400 naming the parser's complaint. */
export async function readJsonBody(c: Context): Promise<unknown> {
  const text = bodyText(await readBody(c));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HubError("invalid_body", `body is not valid JSON: ${(e as Error).message}`);
  }
}
