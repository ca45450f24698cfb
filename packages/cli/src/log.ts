/**
 * What `clawtower serve` says while it runs. `plain` (the default) is for people: one line per event, the
 * "is serving" line on stdout and everything else on stderr, as the other commands do. `json` is for a
 * service manager or a log shipper: every event is one JSON object on one line on stdout
 * (`{"time","level","event","msg",…fields}`), and nothing else is written.
 */
import { UsageError } from "./errors.ts";

export const LOG_FORMATS = ["plain", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = "info" | "warn" | "error";

export type Logger = {
  readonly format: LogFormat;
  log(level: LogLevel, event: string, msg: string, fields?: Record<string, unknown>): void;
  /** For parts that log text lines (the hub, the live import): "<event>: text", level from the text. */
  line(text: string): void;
};

export function parseLogFormat(value: string | undefined): LogFormat {
  const v = value ?? "plain";
  if ((LOG_FORMATS as readonly string[]).includes(v)) return v as LogFormat;
  throw new UsageError(`--log-format must be ${LOG_FORMATS.join(" or ")} (got "${v}")`);
}

type Sink = { write(s: string): unknown };

export function createLogger(format: LogFormat, out: Sink = process.stdout, err: Sink = process.stderr, now: () => Date = () => new Date()): Logger {
  const log: Logger["log"] = (level, event, msg, fields) => {
    if (format === "json") {
      out.write(`${JSON.stringify({ time: now().toISOString(), level, event, msg: msg.trim(), ...fields })}\n`);
    } else {
      (event === "serving" ? out : err).write(`${msg}\n`);
    }
  };
  return {
    format,
    log,
    line(text) {
      const m = /^([a-z][\w-]*): /.exec(text);
      const level: LogLevel = /\b(internal error|failed|error)\b/i.test(text) ? "error" : "info";
      log(level, m?.[1] ?? "serve", text, undefined);
    },
  };
}
