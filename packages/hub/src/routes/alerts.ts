/**
 * Alert API: rules, their instances (firing state), history and channel health for readers; adding, removing
 * and test-sending rules for admins (the admin token, an `admin`-scoped key, or an open loopback hub). A key
 * bound to a deployment sees only the rules scoped to that deployment. Channel secrets are shown once, when a
 * rule is added.
 */
import { Hono, type Context } from "hono";
import { type AlertRule } from "@clawtower/core";
import { AlertRuleError, addAlertRule, alertHistory, channelHealth, findAlertRule, instancesInState, listAlertRules, removeAlertRule, type StoreConnection } from "@clawtower/store";
import { readableDeployment, type Principal } from "../auth.ts";
import { bodyLimit } from "../body.ts";
import { HubError } from "../errors.ts";
import { sampleNotice, sendNotice } from "../alerts/deliver.ts";

export type AlertRouteDeps = { conn: StoreConnection; now: () => number; onChange: () => void };

function requireAdmin(c: Context): void {
  const p = c.get("principal") as Principal;
  if (p.kind === "open" || p.kind === "admin" || (p.kind === "key" && p.key.scopes.includes("admin"))) return;
  throw new HubError("forbidden", "changing alert rules needs the admin token or an admin-scoped key");
}

/** A rule as readers see it: channel secrets masked. */
export function publicRule(r: AlertRule): AlertRule {
  return { ...r, channels: r.channels.map((ch) => ({ ...ch, ...(ch.secret ? { secret: "********" } : {}) })) };
}

function visible(c: Context, r: AlertRule): boolean {
  const only = readableDeployment(c.get("principal") as Principal);
  return only === null || r.scope.deployment === only;
}

export function alertRoutes(deps: AlertRouteDeps): Hono {
  const { conn, now } = deps;
  const app = new Hono();
  app.use("/api/v1/alerts/*", bodyLimit(256 * 1024));

  app.get("/api/v1/alerts/rules", async (c) => {
    const rules = (await listAlertRules(conn)).filter((r) => visible(c, r));
    const ids = new Set(rules.map((r) => r.id));
    const instances = (await instancesInState(conn, ["pending", "firing"])).filter((i) => ids.has(i.ruleId));
    const health = (await channelHealth(conn)).filter((h) => ids.has(h.ruleId));
    return c.json({
      schemaVersion: 1,
      rules: rules.map((r) => ({
        ...publicRule(r),
        firing: instances.filter((i) => i.ruleId === r.id && i.state === "firing").length,
        pending: instances.filter((i) => i.ruleId === r.id && i.state === "pending").length,
        channelHealth: r.channels.map((_, ch) => health.find((h) => h.ruleId === r.id && h.channel === ch) ?? { ruleId: r.id, channel: ch, status: "never", lastError: null, lastAt: null, pending: 0 }),
      })),
    });
  });

  app.post("/api/v1/alerts/rules", async (c) => {
    requireAdmin(c);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HubError("invalid_body", "the body must be a JSON alert rule");
    }
    try {
      const rule = await addAlertRule(conn, body as never, now());
      deps.onChange();
      return c.json({ rule }, 201);
    } catch (e) {
      if (e instanceof AlertRuleError) throw new HubError("invalid_body", e.message);
      throw e;
    }
  });

  app.delete("/api/v1/alerts/rules/:id", async (c) => {
    requireAdmin(c);
    if (!(await removeAlertRule(conn, c.req.param("id")))) throw new HubError("not_found", `no alert rule ${c.req.param("id")}`);
    return c.json({ removed: c.req.param("id") });
  });

  app.post("/api/v1/alerts/rules/:id/test", async (c) => {
    requireAdmin(c);
    const rule = await findAlertRule(conn, c.req.param("id"));
    if (!rule) throw new HubError("not_found", `no alert rule ${c.req.param("id")}`);
    const results = await Promise.all(
      rule.channels.map(async (ch, i) => {
        try {
          await sendNotice(ch, sampleNotice(rule, i, now()), now());
          return { channel: i, type: ch.type, ok: true, error: null };
        } catch (e) {
          return { channel: i, type: ch.type, ok: false, error: (e as Error).message };
        }
      }),
    );
    return c.json({ rule: rule.name, results });
  });

  app.get("/api/v1/alerts/instances", async (c) => {
    const rules = new Map((await listAlertRules(conn)).filter((r) => visible(c, r)).map((r) => [r.id, r]));
    const states = c.req.query("state") === "all" ? (["pending", "firing", "resolved"] as const) : (["pending", "firing"] as const);
    const instances = (await instancesInState(conn, [...states])).filter((i) => rules.has(i.ruleId));
    return c.json({ schemaVersion: 1, instances: instances.map((i) => ({ ...i, rule: rules.get(i.ruleId)!.name, severity: rules.get(i.ruleId)!.severity })) });
  });

  app.get("/api/v1/alerts/history", async (c) => {
    const rules = new Map((await listAlertRules(conn)).filter((r) => visible(c, r)).map((r) => [r.id, r]));
    const asked = c.req.query("rule");
    const rule = asked ? [...rules.values()].find((r) => r.id === asked || r.name === asked) : null;
    if (asked && !rule) throw new HubError("not_found", `no alert rule ${asked}`);
    const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? 100) || 100));
    const events = (await alertHistory(conn, rule?.id ?? null, limit)).filter((e) => rules.has(e.ruleId));
    return c.json({ schemaVersion: 1, events: events.map((e) => ({ ...e, rule: rules.get(e.ruleId)!.name })) });
  });
  return app;
}
