/**
 * The manifest's `configSchema`, generated from the zod schema (schema.ts).
 *
 * OpenClaw validates `plugins.entries.clawtower.config` against this JSON Schema before it loads anything,
 * and one violation makes the whole openclaw.json invalid: the Gateway then refuses to start ("OpenClaw
 * config is invalid; run openclaw doctor --fix", observed on 2026.9.6). A typo in our upload interval must
 * not take the Gateway down, so the manifest schema documents every key (nesting, descriptions, defaults,
 * allowed values as `examples`) but constrains nothing; the exact validation is ours (load.ts), which keeps
 * uploads off and names each wrong field in the log and in `openclaw clawtower status`.
 */
import { z } from "zod";
import { BudgetConfigSchema } from "./budgets-schema.ts";
import { GateConfigSchema } from "./gate-schema.ts";
import { OrchestratorConfigSchema } from "./orchestrator-schema.ts";
import { ConfigSchema } from "./schema.ts";

type Json = Record<string, unknown>;

const KEEP = new Set(["description", "default", "properties", "title", "examples", "items"]);

function annotate(node: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (!KEEP.has(k)) continue;
    if (k === "properties" && v && typeof v === "object") {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([name, child]) => [name, annotate(child)]));
    } else if (k === "items" && v && typeof v === "object" && !Array.isArray(v)) {
      out[k] = annotate(v as Json);
    } else {
      out[k] = v;
    }
  }
  const values = Array.isArray(node["enum"]) ? node["enum"] : undefined;
  if (values) out["examples"] = values;
  return out;
}

export function manifestConfigSchema(): Json {
  const full = z.toJSONSchema(ConfigSchema.extend({ ...BudgetConfigSchema.shape, orchestrator: OrchestratorConfigSchema, ...GateConfigSchema.shape }), { io: "input", unrepresentable: "any" }) as Json;
  return { type: "object", ...annotate(full) };
}
