/** Request validation with zod: one schema per query/body, errors that name the field. */
import { z } from "zod";
import { HubError } from "./errors.ts";

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: "query" | "body"): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? issue.path.join(".") : where;
  throw new HubError(where === "query" ? "invalid_query" : "invalid_body", `${field}: ${issue.message}`);
}

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected a number from ${min} to ${max}`);

/** Filters every report accepts, as query parameters. */
export const FilterQuery = z.object({
  since: z.string().max(64).optional(),
  until: z.string().max(64).optional(),
  tz: z.string().max(64).optional(),
  agent: z.string().max(200).optional(),
  deployment: z.string().max(200).optional(),
});

export const TimeseriesQuery = FilterQuery.extend({
  bucket: z.enum(["hour", "day", "week", "month"]).default("day"),
  groupBy: z.enum(["none", "model", "agent"]).default("none"),
});

export const SessionsQuery = FilterQuery.extend({
  limit: intString(1, 500).default(50),
  offset: intString(0, 10_000_000).default(0),
  sort: z.enum(["last", "cost", "tokens", "calls"]).default("last"),
  order: z.enum(["asc", "desc"]).default("desc"),
  kind: z.string().max(40).optional(),
  channel: z.string().max(200).optional(),
  model: z.string().max(300).optional(),
  q: z.string().max(200).optional(),
});

export const ReplayQuery = z.object({
  offset: intString(0, 10_000_000).default(0),
  limit: intString(1, 5000).default(1000),
});

export { z };
