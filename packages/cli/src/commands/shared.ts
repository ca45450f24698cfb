/** Options every report shares, and how they become ReportFilters. */
import { assertTimeZone, parseTimeBound, type ReportFilters } from "@clawtower/core";
import { UsageError } from "../errors.ts";

export type CommonOptions = {
  openclawHome?: string;
  db?: string;
  since?: string;
  until?: string;
  tz?: string;
  agent?: string;
  json?: boolean;
  verbose?: boolean;
  progress?: boolean;
  workers?: string;
  /** doctor: only the store's integrity check */
  store?: boolean;
};


export function toFilters(o: CommonOptions, deploymentId: string, now: number): ReportFilters {
  const tz = o.tz ?? "UTC";
  try {
    assertTimeZone(tz);
    const since = o.since !== undefined ? parseTimeBound(o.since, tz, now, "--since") : null;
    const until = o.until !== undefined ? parseTimeBound(o.until, tz, now, "--until") : null;
    if (since !== null && until !== null && since >= until) throw new UsageError(`--since (${o.since}) must be before --until (${o.until})`);
    return { since, until, tz, agent: o.agent ?? null, deployment: deploymentId };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
}

export function parseWorkers(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new UsageError(`--workers must be a whole number from 0 to 64 (got "${v}")`);
  return n;
}
