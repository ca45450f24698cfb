/**
 * Dashboard sign-in over real HTTP on SQLite and PostgreSQL: per-client lockout (parallel guesses included),
 * server-side sessions (random id stored as a hash, expiry, logout, revocation), cookie flags, and the admin
 * token's strength check.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, openStore, revokeApiKey, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { HubConfigError, startHub, type RunningHub } from "../src/index.ts";
import { call, clock, cookieAttributes, hubOver, login, sessionCookie, strongToken } from "./hub-over-http.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const MINUTE = 60_000;
const HOUR = 3_600_000;
// The documented policy (README, Security): five free attempts, then 1, 2, 4, 8 and from then on 15 minutes
// between attempts; sessions end after 12 h idle or 7 days.
const FREE = 5;
const WAITS = [MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 15 * MINUTE];

for (const target of targets) {
  describeStore(target, `[${target.name}] sign-in`, () => {
    const open: { conn: StoreConnection; hub: RunningHub }[] = [];
    after(async () => {
      for (const x of open) {
        await x.hub.close();
        await x.conn.close();
      }
    });
    async function fresh(opts: Parameters<typeof hubOver>[1] = {}) {
      const conn = await openStore(target.options());
      const hub = await hubOver(conn, opts);
      open.push({ conn, hub });
      return { conn, hub };
    }

    it("locks a client out after the free attempts and refuses even the right token until the wait ends", async () => {
      const admin = strongToken();
      const t = clock();
      const { hub } = await fresh({ adminToken: admin, clock: t });
      for (let i = 0; i < FREE + 1; i++) assert.equal((await login(hub, `wrong-${i}`)).status, 401, `wrong guess ${i + 1}`);
      // The attempt after the free ones failed: a one-minute wait.
      const locked = await login(hub, admin);
      assert.equal(locked.status, 429, "the right token inside the wait is refused");
      assert.equal(locked.headers.get("retry-after"), "60");
      assert.match(locked.body.error.message, /try again in 60 s/);
      // Bearer tokens are refused too while the client waits: the read API is no side door.
      assert.equal((await call(hub, "/api/v1/reports/summary", { headers: { authorization: `Bearer ${admin}` } })).status, 429);
      t.advance(MINUTE - 1000);
      assert.equal((await login(hub, admin)).status, 429);
      t.advance(1000);
      const ok = await login(hub, admin);
      assert.equal(ok.status, 200, "the wait is over");
      // Success clears the count: the next wrong guess is a free one again.
      assert.equal((await login(hub, "wrong-again")).status, 401);
      assert.equal((await login(hub, admin)).status, 200);
    });

    it("grows the wait with each further failure and counts bearer failures the same", async () => {
      const admin = strongToken();
      const t = clock();
      const { hub } = await fresh({ adminToken: admin, clock: t });
      for (let i = 0; i < FREE; i++) assert.equal((await call(hub, "/api/v1/info", { headers: { authorization: `Bearer guess-${i}` } })).status, 401);
      assert.equal((await login(hub, "guess")).status, 401);
      // Attempt n has just failed: the client waits WAITS[n - FREE - 1] (the last one repeats), then may try once.
      for (let n = FREE + 1; n <= FREE + WAITS.length + 1; n++) {
        const wait = WAITS[Math.min(n - FREE, WAITS.length) - 1]!;
        const refused = await login(hub, "guess");
        assert.equal(refused.status, 429, `inside the wait after attempt ${n}`);
        assert.equal(Number(refused.headers.get("retry-after")) * 1000, wait);
        t.advance(wait);
        assert.equal((await login(hub, "guess")).status, 401, `attempt ${n + 1} is checked`);
      }
      // From then on a quarter of an hour per guess: the 5,000 guesses of the report would take weeks.
    });

    it("counts a burst of parallel guesses before checking any of them", async () => {
      const admin = strongToken();
      const { hub } = await fresh({ adminToken: admin, clock: clock() });
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => login(hub, `parallel-${i}`)));
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 401).length, FREE + 1, "only the free attempts and the one that starts the wait were checked");
      assert.equal(statuses.filter((s) => s === 429).length, 60 - FREE - 1);
      assert.equal((await login(hub, admin)).status, 429);
    });

    it("keeps one budget per client address: X-Forwarded-For counts only behind a trusted proxy", async () => {
      const admin = strongToken();
      const direct = await fresh({ adminToken: admin, clock: clock() });
      // Without --trust-proxy a client cannot make itself new addresses with the header.
      for (let i = 0; i < FREE + 3; i++) await login(direct.hub, "wrong", { "x-forwarded-for": `203.0.113.${i}` });
      assert.equal((await login(direct.hub, admin, { "x-forwarded-for": "198.51.100.7" })).status, 429);

      const proxied = await fresh({ adminToken: admin, clock: clock(), trustProxy: true });
      for (let i = 0; i < FREE + 1; i++) await login(proxied.hub, "wrong", { "x-forwarded-for": "spoofed, 203.0.113.9" });
      assert.equal((await login(proxied.hub, admin, { "x-forwarded-for": "203.0.113.9" })).status, 429, "the proxy's entry (the last) is the client");
      assert.equal((await login(proxied.hub, admin, { "x-forwarded-for": "203.0.113.9, 203.0.113.10" })).status, 200, "another client is not locked");
      // One IPv6 host is one /64.
      for (let i = 0; i < FREE + 1; i++) await login(proxied.hub, "wrong", { "x-forwarded-for": `2001:db8:1:2::${i + 1}` });
      assert.equal((await login(proxied.hub, admin, { "x-forwarded-for": "2001:db8:1:2:ffff::9" })).status, 429);
      assert.equal((await login(proxied.hub, admin, { "x-forwarded-for": "2001:db8:1:3::1" })).status, 200);
    });

    it("signs in to a server-side session: a random id in the cookie, only its hash in the store", async () => {
      const admin = strongToken();
      const { conn, hub } = await fresh({ adminToken: admin, clock: clock() });
      const a = await login(hub, admin);
      assert.equal(a.status, 200);
      const cookie = sessionCookie(a);
      assert.ok(cookie, "a clawtower_session cookie");
      const id = cookie.slice("clawtower_session=".length);
      assert.ok(!id.includes(admin) && id.length >= 43, "the cookie holds a random id, not the token");
      assert.ok(!a.headers.getSetCookie().some((c) => c.includes(admin)), "no cookie carries the token");
      const attrs = cookieAttributes(a);
      assert.ok(attrs.includes("HttpOnly") && attrs.includes("SameSite=Strict") && attrs.includes("Path=/"), attrs.join("; "));
      assert.ok(attrs.includes(`Max-Age=${7 * 24 * 3600}`), attrs.join("; "));
      assert.ok(!attrs.includes("Secure"), "plain http: no Secure (the browser would drop the cookie)");
      const rows = await conn.db.selectFrom("auth_sessions").selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.session_hash, crypto.createHash("sha256").update(id).digest("hex"));
      assert.ok(!JSON.stringify(rows).includes(id) && !JSON.stringify(rows).includes(admin), "neither the id nor the token is stored");
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie } })).status, 200);
      assert.equal((await call(hub, "/api/v1/info")).status, 401);
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: `clawtower_token=${admin}` } })).status, 401, "the old raw-token cookie opens nothing");
      const form = await call(hub, "/api/v1/auth/login", { body: JSON.stringify({ token: admin }), headers: { "content-type": "text/plain" } });
      assert.equal(form.status, 415, "what a cross-site form could send is refused");
      assert.equal(sessionCookie(form), null);
      // Two sign-ins, two different ids.
      assert.notEqual(sessionCookie(await login(hub, admin)), cookie);
    });

    it("marks the cookie Secure over https, and believes X-Forwarded-Proto only behind a trusted proxy", async () => {
      const admin = strongToken();
      const direct = await fresh({ adminToken: admin, clock: clock() });
      assert.ok(!cookieAttributes(await login(direct.hub, admin, { "x-forwarded-proto": "https" })).includes("Secure"));
      const proxied = await fresh({ adminToken: admin, clock: clock(), trustProxy: true });
      assert.ok(cookieAttributes(await login(proxied.hub, admin, { "x-forwarded-proto": "https" })).includes("Secure"));
      assert.ok(cookieAttributes(await login(proxied.hub, admin, { "x-forwarded-proto": "https, http" })).includes("Secure") === false, "the nearest proxy's value counts");
      assert.ok(!cookieAttributes(await login(proxied.hub, admin)).includes("Secure"));
    });

    it("ends a session after 12 hours idle and 7 days after sign-in, however busy", async () => {
      const admin = strongToken();
      const t = clock();
      const { hub } = await fresh({ adminToken: admin, clock: t });
      const busy = sessionCookie(await login(hub, admin))!;
      const idle = sessionCookie(await login(hub, admin))!;
      t.advance(11 * HOUR);
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: busy } })).status, 200);
      t.advance(HOUR + 1);
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: idle } })).status, 401, "12 h without use");
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: busy } })).status, 200, "used 1 h ago");
      while (t.now() < Date.parse("2026-12-01T08:00:00Z") + 7 * 24 * HOUR - 11 * HOUR) {
        t.advance(11 * HOUR);
        assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: busy } })).status, 200);
      }
      t.advance(11 * HOUR);
      const ended = await call(hub, "/api/v1/info", { headers: { cookie: busy } });
      assert.equal(ended.status, 401, "7 days after sign-in");
      assert.match(ended.body.error.message, /sign in again/);
    });

    it("logs out with POST: the session ends on the hub, not only in the browser", async () => {
      const admin = strongToken();
      const { conn, hub } = await fresh({ adminToken: admin, clock: clock() });
      const cookie = sessionCookie(await login(hub, admin))!;
      assert.equal((await call(hub, "/api/v1/auth/logout", { method: "GET", headers: { cookie } })).status, 404, "only POST logs out (a link or image cannot)");
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie } })).status, 200);
      const out = await call(hub, "/api/v1/auth/logout", { method: "POST", headers: { cookie } });
      assert.equal(out.status, 200);
      assert.equal(out.body.ended, true);
      assert.equal(sessionCookie(out), "clawtower_session=", "the cookie is cleared");
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie } })).status, 401, "a copy of the old cookie opens nothing");
      assert.equal((await conn.db.selectFrom("auth_sessions").select("session_hash").execute()).length, 0);
    });

    it("ends sessions whose key is revoked or whose admin token was replaced; an ingest key cannot sign in", async () => {
      const admin = strongToken();
      const { conn, hub } = await fresh({ adminToken: admin, clock: clock() });
      const reader = await createApiKey(conn, { scopes: ["read"] }, Date.now());
      const keyCookie = sessionCookie(await login(hub, reader.token))!;
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: keyCookie } })).status, 200);
      await revokeApiKey(conn, reader.keyId, Date.now());
      assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: keyCookie } })).status, 401);

      const ingest = await createApiKey(conn, { deploymentId: "gw-1" }, Date.now());
      const refused = await login(hub, ingest.token);
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /--scope read/);
      assert.equal(sessionCookie(refused), null);

      const adminCookie = sessionCookie(await login(hub, admin))!;
      const rotated = await hubOver(conn, { adminToken: strongToken(), clock: clock() });
      try {
        assert.equal((await call(rotated, "/api/v1/info", { headers: { cookie: adminCookie } })).status, 401, "a new admin token ends the old token's sessions");
        assert.equal((await call(hub, "/api/v1/info", { headers: { cookie: adminCookie } })).status, 200, "the hub still on the old token keeps them");
      } finally {
        await rotated.close();
      }
    });
  });
}

describe("admin token strength", () => {
  it("refuses a low-entropy admin token with a message saying how to make one, and accepts a generated one", async () => {
    const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "weak.db") });
    try {
      for (const weak of ["aaaaaaaaaaaaaaaa", "password12345678", "abcdefghijklmnopqrstuvwxyz", "correct-horse-battery-staple", "admin-token-0123456789"]) {
        // A hub that starts anyway is closed, so a failure here is a failure, not a process that never ends.
        const refusal = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: weak, webDir: null, log: () => {} }).then(
          async (hub) => void (await hub.close()),
          (e: Error) => e,
        );
        assert.ok(refusal instanceof HubConfigError, `${weak} was accepted`);
        assert.match(refusal.message, /too easy to guess.*clawtower token create/);
      }
      await assert.rejects(startHub({ conn, prices: createPriceBook([], []), host: "0.0.0.0", port: 0, adminToken: "short", webDir: null }), /at least 16/);
      const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: strongToken(), webDir: null, log: () => {} });
      await hub.close();
    } finally {
      await conn.close();
    }
  });
});
