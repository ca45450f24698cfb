/** `GET /api/v1/insights`: the same JSON as `clawtower insights --json` (read access; a bound key sees its deployment). */
import { Hono } from "hono";
import { loadBundledPrices, type PriceBook } from "@clawtower/core";
import { insightsReport, type StoreConnection } from "@clawtower/store";
import { readableDeployment } from "../auth.ts";
import { HubError } from "../errors.ts";
import { FilterQuery, parseWith } from "../validation.ts";
import { filtersFrom } from "./read.ts";

export function insightsRoutes(deps: { conn: StoreConnection; prices: PriceBook; now: () => number }): Hono {
  const app = new Hono();
  const catalog = loadBundledPrices().prices;
  app.get("/api/v1/insights", async (c) => {
    const q = parseWith(FilterQuery, c.req.query(), "query");
    const only = readableDeployment(c.get("principal"));
    if (only !== null && q.deployment !== undefined && q.deployment !== only) throw new HubError("forbidden", `this API key may read deployment ${only} only`);
    const now = deps.now();
    const f = filtersFrom(only === null ? q : { ...q, deployment: only }, now);
    return c.json(await insightsReport(deps.conn, f, deps.prices, catalog, now));
  });
  return app;
}
