/** The watcher's log: "<ISO time> [LEVEL] - message" lines on stderr, filtered by --log-level. */
export const WATCH_LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
export type WatchLogLevel = (typeof WATCH_LOG_LEVELS)[number];

export type WatchLogger = {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  critical(msg: string): void;
};

const RANK: Record<WatchLogLevel | "CRITICAL", number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

export function createWatchLogger(level: WatchLogLevel, out: { write(s: string): unknown } = process.stderr, now: () => Date = () => new Date()): WatchLogger {
  const line = (l: WatchLogLevel | "CRITICAL", msg: string) => {
    if (RANK[l] >= RANK[level]) out.write(`${now().toISOString()} [${l}] - ${msg}\n`);
  };
  return {
    debug: (m) => line("DEBUG", m),
    info: (m) => line("INFO", m),
    warn: (m) => line("WARNING", m),
    error: (m) => line("ERROR", m),
    critical: (m) => line("CRITICAL", m),
  };
}
