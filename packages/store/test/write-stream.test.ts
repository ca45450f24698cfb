import assert from "node:assert/strict";
import { after, it } from "node:test";
import { describeStore, storeTargets } from "@clawtower/testkit";
import { openStore, type StoreConnection } from "../src/index.ts";
import { WriteStream } from "../src/write-stream.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

/** Keys committed so far, as another connection sees them. */
async function committed(reader: StoreConnection): Promise<string[]> {
  const rows = await reader.db.selectFrom("meta").select("key").where("key", "like", "ws:%").orderBy("key").execute();
  return rows.map((r) => r.key);
}

for (const target of targets) {
  describeStore(target, `[${target.name}] WriteStream`, () => {
    it("writes each item as it arrives and commits every maxRows rows and at the end", async () => {
      const options = target.options();
      const conn = await openStore(options);
      const reader = await openStore(options);
      let before = 0;
      const stream = new WriteStream<string>(
        conn.db,
        3,
        async (trx, key) => {
          await trx.insertInto("meta").values({ key, value: "v" }).execute();
          return 1;
        },
        async () => {
          before++;
        },
      );
      for (const k of ["ws:1", "ws:2", "ws:3"]) await stream.push(k);
      await stream.push("ws:4"); // written in the next transaction, not yet committed
      assert.deepEqual(await committed(reader), ["ws:1", "ws:2", "ws:3"]);
      await stream.end();
      assert.deepEqual(await committed(reader), ["ws:1", "ws:2", "ws:3", "ws:4"]);
      assert.equal(before, 1);
      await reader.close();
      await conn.close();
    });

    it("rolls back the open transaction when a write fails, and rejects that item, the queued ones and end()", async () => {
      const conn = await openStore(target.options());
      const stream = new WriteStream<string>(conn.db, 100, async (trx, key) => {
        if (key === "ws:bad") throw new Error("cannot write ws:bad");
        await trx.insertInto("meta").values({ key, value: "v" }).execute();
        return 1;
      });
      await stream.push("ws:a");
      const results = await Promise.allSettled([stream.push("ws:bad"), stream.push("ws:b")]);
      assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
      await assert.rejects(stream.end(), /cannot write ws:bad/);
      await assert.rejects(stream.push("ws:c"), /cannot write ws:bad/);
      assert.deepEqual(await committed(conn), []);
      await conn.close();
    });

    it("rejects the item waiting for it, and end(), when what runs before the first write fails", async () => {
      const conn = await openStore(target.options());
      const stream = new WriteStream<string>(conn.db, 10, async () => 1, async () => {
        throw new Error("before failed");
      });
      const first = stream.push("ws:x");
      await assert.rejects(first, /before failed/);
      await assert.rejects(stream.end(), /before failed/);
      await conn.close();
    });

    it("opens no transaction and runs nothing before when no item comes", async () => {
      const conn = await openStore(target.options());
      let before = 0;
      const stream = new WriteStream<string>(conn.db, 10, async () => 1, async () => {
        before++;
      });
      await stream.end();
      assert.equal(before, 0);
      await conn.close();
    });
  });
}
