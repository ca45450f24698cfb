/**
 * Orchestrator delegation's configuration: `plugins.entries.clawtower.config.orchestrator`, declared once.
 * Validated apart from the upload keys (load.ts strips it): a wrong field turns delegation off and names
 * its path; it never stops uploads or the spend guard. Names follow the seed plugin's, so its config moves over.
 */
import { z } from "zod";
import { HOST_TOOL_NAMES } from "../orchestrator/host-tools.ts";

export const RETRY_OUTCOMES = ["error", "timeout", "killed", "reset", "deleted"] as const;

const hostTool = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    if (!HOST_TOOL_NAMES.has(v)) ctx.addIssue({ code: "custom", message: `"${v}" is not a tool of OpenClaw 2026.9.6 (e.g. read, exec, web_search, sessions_yield)` });
  });

const toolList = z.array(hostTool).max(100).default([]);

export const OrchestratorConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe("Turn delegation on: front sessions delegate to one hidden orchestrator subagent."),
    injectOrchestratorPrompt: z
      .boolean()
      .default(true)
      .describe("Prepend the orchestrator-mode block, the bound orchestrator and a worker snapshot to front sessions' prompts (needs hooks.allowConversationAccess)."),
    enforceMainDelegation: z.boolean().default(false).describe("Block every non-router tool in front sessions (router tools and allowedMainTools pass)."),
    allowedMainTools: toolList.describe("Extra tools a front session may call when enforceMainDelegation is on (host tool names; unknown names are rejected)."),
    allowedOrchestratorTools: toolList.describe("Extra tools an orchestrator session may call beside the router tools (host tool names; unknown names are rejected)."),
    orchestratorLabelPrefix: z
      .string()
      .regex(/^[a-z0-9._-]{1,40}$/, "1–40 of a-z 0-9 . _ -")
      .default("thread-orchestrator")
      .describe("Label of a front session's orchestrator: <prefix>-<first 10 hex of sha256(front session key)>."),
    threadBound: z
      .boolean()
      .default(true)
      .describe("Spawn the orchestrator with thread:true (bound to the chat thread). OpenClaw refuses thread-bound spawns where no channel is configured (\"Channel is required\"): set false there."),
    autoRetryFailedSubagents: z.boolean().default(true).describe("Ask the orchestrator to respawn a worker that ended with one of retryOutcomes."),
    retryOutcomes: z.array(z.enum(RETRY_OUTCOMES)).min(1).default(["error", "timeout"]).describe("Worker outcomes that are retried."),
    maxRetriesPerTask: z.number().int().min(1).max(5).default(2).describe("Retries per task (same requester, agent, label and task text)."),
    bypassAfterBlockedAttempts: z
      .number()
      .int()
      .min(2)
      .max(20)
      .optional()
      .describe("Unset (default): an orchestrator's blocked tool stays blocked. N: its Nth blocked call of one tool in one run is let through, and recorded as a bypass audit event."),
    idleExpiryMinutes: z
      .number()
      .int()
      .min(1)
      .max(43_200)
      .default(1440)
      .describe("A binding (with its workers and retry budgets) not used for this long is forgotten."),
    maxBindings: z.number().int().min(1).max(100_000).default(1000).describe("At most this many bindings are kept; the least recently used goes first."),
    maxWorkersPerOrchestrator: z.number().int().min(1).max(1000).default(50).describe("At most this many workers are tracked per orchestrator; the oldest finished go first."),
  })
  .prefault({})
  .describe("Orchestrator delegation (off by default).");

export type OrchestratorConfig = z.output<typeof OrchestratorConfigSchema>;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

export const ORCHESTRATOR_KEY = "orchestrator";
