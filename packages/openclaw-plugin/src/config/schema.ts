/**
 * The plugin's configuration (`plugins.entries.clawtower.config` in openclaw.json), declared once. The
 * manifest's `configSchema` is generated from this (scripts/build.ts, manifest-schema.ts); `load.ts`
 * validates with it and names every wrong field.
 *
 * Keys and defaults are compatible with the Influxion uploader this plugin replaces (`apiKey`,
 * `deploymentId`, `projectId`, `apiUrl`, `upload.*`, `filter.*`).
 */
import { z } from "zod";
import { parseInterval } from "./interval.ts";

const interval = z
  .union([z.string(), z.number()])
  .superRefine((v, ctx) => {
    const r = parseInterval(v);
    if ("error" in r) ctx.addIssue({ code: "custom", message: r.error });
  });

const count = (min: number, max: number) => z.number().int().min(min).max(max);

/** A session glob: `*` matches anything, every other character is literal, the whole key must match. */
const glob = z.string().min(1).max(500);

export const ConfigSchema = z
  .strictObject({
    apiKey: z.string().min(1).optional().describe("API key for the hub (Bearer token). Required. Never logged; shown masked by `openclaw clawtower status`."),
    deploymentId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("This Gateway's deployment id on the hub (a key created with `clawtower keys create --deployment <id>` may only write its own). Required."),
    projectId: z.string().min(1).max(200).optional().describe("Influxion project id. Required when target is \"influxion\"; sent with every line."),
    apiUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("Hub base URL. Default: http://127.0.0.1:4680 (target clawtower), https://api.influxion.io (target influxion)."),
    target: z
      .enum(["clawtower", "influxion"])
      .default("clawtower")
      .describe("Wire format: \"clawtower\" (NDJSON to /api/v1/ingest/events, per-line answers) or \"influxion\" ({lines} to /v1/openclaw/ingest/sessions)."),
    privacy: z
      .enum(["metadata", "redacted", "full"])
      .default("redacted")
      .describe(
        "What leaves the machine: \"metadata\" (ids, roles, models, usage, tool names; no text), \"redacted\" (everything, with secrets, tokens and e-mail addresses masked), \"full\" (events verbatim).",
      ),
    redact: z
      .strictObject({
        patterns: z.array(z.string().min(1).max(1000)).max(200).default([]).describe("Extra regular expressions to mask (\"pattern\" = flags gi, or \"/pattern/flags\")."),
        emails: z.boolean().default(true).describe("Mask e-mail addresses."),
        openclawPatterns: z.boolean().default(true).describe("Also apply OpenClaw's logging.redactPatterns."),
      })
      .prefault({})
      .describe("Masking applied in privacy mode \"redacted\" (and to skills content)."),
    upload: z
      .strictObject({
        every: interval
          .default("15m")
          .describe("Time between upload cycles: 500ms|30s|5m|1h|1d, a bare number = minutes, \"0\" = no scheduled uploads (`openclaw clawtower sync` still works)."),
        retryAttempts: count(0, 20).default(3).describe("Retries per request after the first attempt (5xx, 408, 429, network errors, timeouts)."),
        retryBackoffMs: count(0, 3_600_000).default(5000).describe("First retry delay; doubles per retry, with jitter. A 429's Retry-After wins when longer."),
        timeoutMs: count(100, 3_600_000).default(30_000).describe("Timeout of one request."),
        maxFilesPerRun: count(1, 1_000_000).default(50).describe("At most this many sessions get work per cycle; the rest are reported pending."),
        maxBytesPerRun: count(1024, 2 ** 40).default(10_485_760).describe("At most about this many transcript bytes per cycle (the first batch always goes)."),
      })
      .prefault({}),
    filter: z
      .strictObject({
        agents: z
          .strictObject({
            allow: z.array(z.string().min(1)).default([]).describe("Only these agents (empty = all)."),
            deny: z.array(z.string().min(1)).default([]).describe("Never these agents (wins over allow)."),
          })
          .prefault({}),
        sessions: z
          .strictObject({
            deny: z.array(glob).default([]).describe("Session globs (`*` only, anchored) matched against session keys and ids, before any content is read."),
          })
          .prefault({}),
        minMessages: count(0, 1_000_000).default(2).describe("Skip sessions with fewer user/assistant/tool messages (headers and bookkeeping events do not count)."),
        minBytes: count(0, 2 ** 40).default(512).describe("Skip sessions smaller than this many bytes."),
        includeSkills: z.boolean().default(true).describe("Upload each agent's skills inventory (SKILL.md content only when it changed)."),
      })
      .prefault({}),
    live: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Record every LLM call in the local usage ledger (<stateDir>/clawtower/usage.sqlite) as it happens."),
        forward: z.boolean().default(true).describe("Forward new transcript messages to the hub within seconds (the next cycle's copy is a duplicate)."),
        flushMs: count(50, 60_000).default(1000).describe("How often queued hook events are written and forwarded."),
      })
      .prefault({}),
    audit: z
      .strictObject({
        largePromptChars: count(0, 2 ** 40)
          .default(100_000)
          .describe("Log a warning and dump previews when system prompt + prompt + history exceed this many characters (0 = off). Needs hooks.allowConversationAccess."),
        dumpMaxBytes: count(4096, 2 ** 30).default(5_242_880).describe("Rotate the large-prompt dump file at this size."),
        dumpFiles: count(1, 20).default(3).describe("Rotated dump files kept."),
      })
      .prefault({}),
  })
  .describe("Clawtower: ships this Gateway's transcripts, skills and live usage to a Clawtower or Influxion-compatible hub.");

export type PluginConfig = z.output<typeof ConfigSchema>;
export type PluginConfigInput = z.input<typeof ConfigSchema>;

export const DEFAULT_API_URL = { clawtower: "http://127.0.0.1:4680", influxion: "https://api.influxion.io" } as const;
