/**
 * Fleet budgets over HTTP (store functions only):
 *   GET    /api/v1/budgets/effective?deployment=…  budgets that apply to a deployment with the fleet's spend in their
 *          current period — for gateways: an `ingest` key may read the effective budgets of the deployment it
 *          writes for (a bound key: its own only; an unbound one: the one it names), and readers may too
 *   GET    /api/v1/budgets                  every budget with its spend (read; a bound read key: its deployment's)
 *   GET    /api/v1/budgets/events           stored budget events, newest first (read)
 *   GET    /api/v1/budgets/:id              one budget (read)
 *   PUT    /api/v1/budgets/:id              create or replace (admin token or an admin key)
 *   DELETE /api/v1/budgets/:id              remove (admin)
 *   POST   /api/v1/ingest/budget-events     `{events:[…]}` from a gateway (ingest key; idempotent per event id)
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { BudgetEventBatchSchema, BudgetEventKindSchema } from "@clawtower/core";
import {
  BudgetEventError,
  BudgetValidationError,
  effectiveBudget,
  effectiveBudgets,
  getBudget,
  keyHasScope,
  listBudgetEvents,
  loginLockedFor,
  recordBudgetEvents,
  removeBudget,
  setBudget,
  verifyApiKey,
  type StoreConnection,
} from "@clawtower/store";
import { readableDeployment, requireReader, lockedOut, type AuthConfig, type Principal } from "../auth.ts";
import { readJsonBody } from "../body.ts";
import { HubError } from "../errors.ts";
import { requestClient } from "../request-origin.ts";
import { parseWith, z } from "../validation.ts";

export type BudgetDeps = { conn: StoreConnection; auth: AuthConfig; now: () => number; onChange?: () => void };

const deploymentParam = z.string().min(1).max(200);

/**
 * An ingest key (which cannot read reports) may still fetch its deployment's effective budgets: the guard in the
 * gateway needs them and already holds that key. Anything else goes through the reader check.
 */
function budgetFetcher(deps: BudgetDeps): MiddlewareHandler {
  const reader = requireReader(deps.conn, deps.auth, deps.now);
  return async (c, next) => {
    const h = c.req.header("authorization");
    if (h?.startsWith("Bearer ")) {
      const wait = await loginLockedFor(deps.conn, requestClient(c, deps.auth.trustProxy === true), deps.now());
      if (wait > 0) throw lockedOut(wait);
      const key = await verifyApiKey(deps.conn, h.slice(7).trim(), deps.now());
      if (key && keyHasScope(key, "ingest") && !keyHasScope(key, "read")) {
        c.set("principal", { kind: "key", key } satisfies Principal);
        return next();
      }
    }
    return reader(c, next);
  };
}

function isAdmin(p: Principal): boolean {
  return p.kind === "admin" || p.kind === "open" || (p.kind === "key" && p.key.scopes.includes("admin"));
}

function requireAdmin(c: Context): void {
  if (!isAdmin(c.get("principal"))) throw new HubError("forbidden", "changing budgets needs the admin token or a key with scope admin");
}

/** The deployment the caller may ask about: a bound key forces its own and refuses another. */
function allowedDeployment(c: Context, asked: string | undefined): string | null {
  const only = readableDeployment(c.get("principal"));
  if (only !== null && asked !== undefined && asked !== only) throw new HubError("forbidden", `this API key may read deployment ${only} only`);
  return only ?? asked ?? null;
}

function storeErrors<T>(f: () => Promise<T>): Promise<T> {
  return f().catch((e: unknown) => {
    if (e instanceof BudgetValidationError || e instanceof BudgetEventError) throw new HubError("invalid_body", e.message);
    throw e;
  });
}

/** Routes behind the reader middleware (and the one for gateways in front of it): mount before `requireReader`. */
export function budgetRoutes(deps: BudgetDeps): Hono {
  const { conn, now } = deps;
  const app = new Hono();

  app.get("/api/v1/budgets/effective", budgetFetcher(deps), async (c) => {
    const q = parseWith(z.object({ deployment: deploymentParam.optional() }), c.req.query(), "query");
    const p = c.get("principal");
    const deployment = allowedDeployment(c, q.deployment);
    // An ingest-only key reads budgets of one deployment, never the whole list.
    if (deployment === null && p.kind === "key" && !keyHasScope(p.key, "read")) throw new HubError("invalid_query", "deployment: required (this key is not bound to a deployment)");
    return c.json(await effectiveBudgets(conn, deployment, now()));
  });

  app.post("/api/v1/ingest/budget-events", async (c) => {
    const p = c.get("principal");
    if (p.kind !== "key") throw new HubError("forbidden", "ingest needs an API key");
    const body = parseWith(BudgetEventBatchSchema.extend({ events: z.array(z.unknown()).min(1).max(1000) }), await readJsonBody(c), "body");
    const named = new Set(body.events.map((e) => (e && typeof e === "object" ? (e as { deployment?: unknown }).deployment : undefined)).filter((d): d is string => typeof d === "string"));
    let deployment = p.key.deploymentId;
    if (deployment === null) {
      if (named.size !== 1) throw new HubError("invalid_body", "events[].deployment: one deployment is required (this key is not bound to a deployment)");
      deployment = [...named][0]!;
    }
    const r = await storeErrors(() => recordBudgetEvents(conn, deployment, body.events, now()));
    if (r.accepted > 0) deps.onChange?.();
    return c.json({ schemaVersion: 1, deployment, ...r });
  });
  return app;
}

/** Read and admin routes: mount after `requireReader`. */
export function budgetReadRoutes(deps: BudgetDeps): Hono {
  const { conn, now } = deps;
  const app = new Hono();

  app.get("/api/v1/budgets", async (c) => {
    const q = parseWith(z.object({ deployment: deploymentParam.optional() }), c.req.query(), "query");
    return c.json(await effectiveBudgets(conn, allowedDeployment(c, q.deployment), now()));
  });

  app.get("/api/v1/budgets/events", async (c) => {
    const q = parseWith(
      z.object({
        deployment: deploymentParam.optional(),
        budget: z.string().min(1).max(80).optional(),
        kind: z.string().max(200).optional(),
        since: z.string().regex(/^\d+$/, "epoch milliseconds").transform(Number).optional(),
        limit: z.string().regex(/^\d+$/, "a whole number").transform(Number).pipe(z.number().int().min(1).max(1000)).optional(),
      }),
      c.req.query(),
      "query",
    );
    const kinds = q.kind ? q.kind.split(",").map((k) => parseWith(BudgetEventKindSchema, k.trim(), "query")) : null;
    const events = await listBudgetEvents(conn, { deployment: allowedDeployment(c, q.deployment), budgetId: q.budget ?? null, kinds, since: q.since ?? null, limit: q.limit ?? 200 });
    return c.json({ schemaVersion: 1, events });
  });

  app.get("/api/v1/budgets/:id", async (c) => {
    const b = await getBudget(conn, c.req.param("id"));
    const only = allowedDeployment(c, undefined);
    if (!b || (only !== null && b.deployment !== "*" && b.deployment !== only)) throw new HubError("not_found", `no budget ${c.req.param("id")}`);
    return c.json({ schemaVersion: 1, ...(await effectiveBudget(conn, b, now())) });
  });

  app.put("/api/v1/budgets/:id", async (c) => {
    requireAdmin(c);
    const body = await readJsonBody(c);
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new HubError("invalid_body", "body: expected a budget object");
    const id = c.req.param("id");
    const given = (body as { id?: unknown }).id;
    if (given !== undefined && given !== id) throw new HubError("invalid_body", `id: "${String(given)}" differs from the URL's "${id}"`);
    const b = await storeErrors(() => setBudget(conn, { ...body, id }, now()));
    deps.onChange?.();
    return c.json({ schemaVersion: 1, budget: b });
  });

  app.delete("/api/v1/budgets/:id", async (c) => {
    requireAdmin(c);
    const id = c.req.param("id");
    if (!(await removeBudget(conn, id))) throw new HubError("not_found", `no budget ${id}`);
    deps.onChange?.();
    return c.json({ schemaVersion: 1, removed: id });
  });
  return app;
}
