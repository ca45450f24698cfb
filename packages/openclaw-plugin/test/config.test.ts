import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { formatInterval, parseInterval } from "../src/config/interval.ts";
import { loadConfig, maskKey } from "../src/config/load.ts";
import { manifestConfigSchema } from "../src/config/manifest-schema.ts";
import { buildManifest } from "../src/manifest.ts";

describe("upload.every", () => {
  it("accepts 500ms|30s|5m|1h|1d and bare minutes", () => {
    assert.deepEqual(parseInterval("500ms"), { ms: 500 });
    assert.deepEqual(parseInterval("30s"), { ms: 30_000 });
    assert.deepEqual(parseInterval("5m"), { ms: 300_000 });
    assert.deepEqual(parseInterval("1h"), { ms: 3_600_000 });
    assert.deepEqual(parseInterval("1d"), { ms: 86_400_000 });
    assert.deepEqual(parseInterval("15"), { ms: 900_000 });
    assert.deepEqual(parseInterval(2), { ms: 120_000 });
    assert.equal(formatInterval({ ms: 900_000 }), "15m");
  });
  it('"0" and 0 turn the scheduler off (never a tight loop)', () => {
    for (const v of ["0", 0, "0s", "0ms"]) assert.deepEqual(parseInterval(v), { off: true });
  });
  it("rejects anything else", () => {
    for (const v of ["banana", "5 minutes", "-1", "1w", "", "30d"]) assert.ok("error" in parseInterval(v), v);
  });
});

describe("loadConfig", () => {
  it("applies the seed's defaults", () => {
    const r = loadConfig({ apiKey: "ct_secret_key_123456", deploymentId: "gw-1" });
    assert.equal(r.status, "ok");
    const c = r.config!;
    assert.equal(c.target, "clawtower");
    assert.equal(c.apiUrl, "http://127.0.0.1:4680");
    assert.equal(c.privacy, "redacted");
    assert.deepEqual(c.upload, { every: "15m", retryAttempts: 3, retryBackoffMs: 5000, timeoutMs: 30000, maxFilesPerRun: 50, maxBytesPerRun: 10485760 });
    assert.equal(c.filter.minMessages, 2);
    assert.equal(c.filter.minBytes, 512);
    assert.deepEqual(c.interval, { ms: 900_000 });
    assert.equal(loadConfig({ apiKey: "k", deploymentId: "d", projectId: "p", target: "influxion" }).config?.apiUrl, "https://api.influxion.io");
  });
  it("missing required keys: loads unconfigured and names them", () => {
    const r = loadConfig(undefined);
    assert.equal(r.status, "unconfigured");
    assert.deepEqual(r.issues.map((i) => i.path), ["plugins.entries.clawtower.config.apiKey", "plugins.entries.clawtower.config.deploymentId"]);
    const inf = loadConfig({ apiKey: "k", deploymentId: "d", target: "influxion" });
    assert.deepEqual(inf.issues.map((i) => i.path), ["plugins.entries.clawtower.config.projectId"]);
  });
  it("invalid values: one issue per wrong field, with its full path", () => {
    const r = loadConfig({ apiKey: "k", deploymentId: "d", upload: { every: "banana", retryAttempts: -1, evry: "5m" }, privacy: "everything", filter: { agents: { allow: "main" } }, apiUrl: "ftp://x" });
    assert.equal(r.status, "invalid");
    const paths = r.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      "plugins.entries.clawtower.config.apiUrl",
      "plugins.entries.clawtower.config.filter.agents.allow",
      "plugins.entries.clawtower.config.privacy",
      "plugins.entries.clawtower.config.upload.every",
      "plugins.entries.clawtower.config.upload.evry",
      "plugins.entries.clawtower.config.upload.retryAttempts",
    ]);
    assert.match(r.issues.find((i) => i.path.endsWith("upload.every"))!.message, /500ms\|30s\|5m\|1h\|1d/);
    assert.match(r.issues.find((i) => i.path.endsWith("evry"))!.message, /unknown key/);
  });
  it("masks keys", () => {
    assert.equal(maskKey("ct_abcdefghijklmnop"), "ct_a…mnop");
    assert.equal(maskKey("short"), "****");
    assert.equal(maskKey(undefined), null);
  });
});

describe("manifest", () => {
  it("the checked-in openclaw.plugin.json is what `npm run build` generates", () => {
    const file = path.resolve(import.meta.dirname, "../openclaw.plugin.json");
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), JSON.parse(JSON.stringify(buildManifest())), "run `npm run build -w @clawtower/openclaw-plugin`");
  });
  it("declares every config key, with descriptions and defaults, but constrains nothing the host would refuse to start on", () => {
    const s = manifestConfigSchema() as { properties: Record<string, { properties?: Record<string, unknown>; description?: string }> };
    assert.deepEqual(Object.keys(s.properties).sort(), ["apiKey", "apiUrl", "audit", "budgetAlerts", "budgetFailMode", "budgetReserve", "budgets", "deploymentId", "filter", "live", "orchestrator", "privacy", "projectId", "redact", "replyGate", "target", "upload"]);
    assert.deepEqual(Object.keys(s.properties["upload"]!.properties!).sort(), ["every", "maxBytesPerRun", "maxFilesPerRun", "retryAttempts", "retryBackoffMs", "timeoutMs"]);
    assert.ok(s.properties["apiKey"]!.description);
    const text = JSON.stringify(s);
    // `"format":"` is the JSON Schema keyword (budgetAlerts.webhook has a property named format).
    for (const kw of ['"required"', '"pattern"', '"enum"', '"minimum"', '"additionalProperties"', '"anyOf"', '"format":"']) assert.ok(!text.includes(kw), `${kw} in manifest schema`);
    assert.equal((s.properties["privacy"] as { examples?: unknown }).examples !== undefined, true);
    const m = buildManifest() as { activation: unknown; cliCommands: unknown; backupResources: unknown };
    assert.deepEqual(m.activation, { onStartup: true });
    assert.deepEqual(m.backupResources, [{ disposition: "include", scope: "state", relativePath: "clawtower" }]);
  });
});
