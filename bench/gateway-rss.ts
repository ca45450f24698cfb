/**
 * `node bench/gateway-rss.ts [--turns 5] [--rounds 3]`: what the plugin adds to a real Gateway's memory.
 *
 * Two fresh OpenClaw 2026.9.6 homes against the fake LLM, identical but for the Clawtower plugin (installed from
 * `npm pack`, shipping to a hub on loopback with live forwarding on). Each runs `openclaw gateway run`, answers
 * --turns `chat.send` turns and settles. Then every Node process of the Gateway (it runs with
 * `NODE_OPTIONS=--inspect=127.0.0.1:0`, so each one opens an inspector) is made to collect garbage twice through
 * the DevTools protocol, and two figures are read: the V8 heap in use after that GC (Runtime.getHeapUsage; within
 * ~2 MiB run to run, except the plugin's first run, which also makes the first upload: ~12 MiB more) and the
 * resident memory of the whole process group from /proc (what the operator pays, but glibc keeps freed pages, so
 * it moves by tens of MiB between identical runs). The two homes are measured alternately --rounds times; the
 * table gives medians and ranges.
 */
import fs from "node:fs";
import path from "node:path";
import { createOpenClawHome, ensureOpenClaw, pathWithNode24, runOpenClaw, runProcess, startGateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { tmpDir } from "@clawtower/testkit";
import { startFakeLlm } from "@clawtower/testkit/fake-llm";
import { startTestHub } from "../packages/openclaw-plugin/test/helpers.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback);
const TURNS = flag("--turns", 5);
const ROUNDS = flag("--rounds", 3);
const PLUGIN_DIR = path.resolve(import.meta.dirname, "..", "packages", "openclaw-plugin");
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Resident memory of every process in the group led by `pgid` (the Gateway and any helpers it spawned). */
function groupRssMiB(pgid: number): number {
  let kb = 0;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue; // field 5 of stat: process group
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // the process ended while we looked
    }
  }
  return kb / 1024;
}

async function pack(): Promise<string> {
  const dest = tmpDir("ct-bench-pack-");
  const r = await runProcess("npm", ["pack", "--pack-destination", dest, "--loglevel=warn"], { cwd: PLUGIN_DIR, env: { ...(process.env as Record<string, string>), PATH: pathWithNode24() }, timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  return path.join(dest, fs.readdirSync(dest).find((f) => f.endsWith(".tgz"))!);
}

/** One DevTools-protocol session over the inspector's WebSocket: send a method, await its result. */
async function inspect<T>(wsUrl: string, methods: string[]): Promise<T> {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`inspector ${wsUrl} refused the connection`)), { once: true });
  });
  try {
    let last: unknown;
    for (const [i, method] of methods.entries()) {
      last = await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`inspector: ${method} timed out`)), 60_000);
        const onMessage = (e: MessageEvent) => {
          const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
          if (msg.id !== i + 1) return;
          clearTimeout(t);
          ws.removeEventListener("message", onMessage);
          if (msg.error) reject(new Error(`inspector: ${method}: ${msg.error.message}`));
          else resolve(msg.result);
        };
        ws.addEventListener("message", onMessage);
        ws.send(JSON.stringify({ id: i + 1, method }));
      });
    }
    return last as T;
  } finally {
    ws.close();
  }
}

type Sample = { heapMiB: number; rssMiB: number; processes: number };

async function measure(home: OpenClawHome, label: string, requests: () => number): Promise<Sample> {
  const gw = await startGateway(home, { readyTimeoutMs: 180_000, env: { NODE_OPTIONS: [home.env.NODE_OPTIONS, "--inspect=127.0.0.1:0"].filter(Boolean).join(" ") } });
  try {
    for (let i = 0; i < TURNS; i++) {
      const before = requests();
      await gw.call("chat.send", { sessionKey: `agent:main:rss-${i}`, message: `turn ${i}`, idempotencyKey: `rss-${label}-${i}` });
      const deadline = Date.now() + 120_000;
      while (requests() === before) {
        if (Date.now() > deadline) throw new Error(`${label}: turn ${i} got no LLM call`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await new Promise((r) => setTimeout(r, 8_000)); // let forwarding and flushes settle
    // Every Node process of the group printed its inspector address; short-lived ones (CLI probes) are gone by now.
    const urls = [...new Set([...gw.output().matchAll(/Debugger listening on (ws:\/\/\S+)/g)].map((m) => m[1]!))];
    let heap = 0;
    let processes = 0;
    for (const url of urls) {
      try {
        const usage = await inspect<{ usedSize: number }>(url, ["HeapProfiler.collectGarbage", "HeapProfiler.collectGarbage", "Runtime.getHeapUsage"]);
        heap += usage.usedSize;
        processes++;
      } catch {
        // that process has exited
      }
    }
    if (processes === 0) throw new Error(`${label}: no inspector answered (${urls.length} announced)`);
    await new Promise((r) => setTimeout(r, 2_000));
    const rss: number[] = [];
    for (let i = 0; i < 5; i++) {
      rss.push(groupRssMiB(gw.pid));
      await new Promise((r) => setTimeout(r, 500));
    }
    const sample = { heapMiB: heap / 2 ** 20, rssMiB: median(rss), processes };
    log(`${label}: heap after GC ${sample.heapMiB.toFixed(1)} MiB in ${processes} process(es), group RSS ${sample.rssMiB.toFixed(0)} MiB`);
    return sample;
  } finally {
    await gw.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const [install, tarball] = await Promise.all([ensureOpenClaw("2026.9.6"), pack()]);
const llm = await startFakeLlm({ cacheWriteTokens: 500 });
const hub = await startTestHub("gw-rss");
try {
  const plain = await createOpenClawHome({ dir: tmpDir("ct-rss-plain-"), fakeLlmBaseUrl: llm.baseUrl, install });
  const withPlugin = await createOpenClawHome({ dir: tmpDir("ct-rss-plugin-"), fakeLlmBaseUrl: llm.baseUrl, install });
  const inst = await runOpenClaw(withPlugin, ["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
  if (inst.code !== 0) throw new Error(`plugin install failed: ${inst.stderr.slice(-2000)}`);
  const config = { apiKey: hub.key, deploymentId: "gw-rss", apiUrl: hub.url, upload: { every: "1m" }, filter: { minMessages: 1, minBytes: 0 } };
  const set = await runOpenClaw(withPlugin, ["config", "set", "plugins.entries.clawtower.config", JSON.stringify(config), "--strict-json"], { timeoutMs: 120_000 });
  if (set.code !== 0) throw new Error(`config set failed: ${set.stderr.slice(-2000)}`);

  const requests = () => llm.requests.length;
  // Alternate, so that whatever warms up (disk cache, the fake LLM) favours neither side.
  const plainRuns: Sample[] = [];
  const pluginRuns: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    plainRuns.push(await measure(plain, `round ${r + 1} without plugin`, requests));
    pluginRuns.push(await measure(withPlugin, `round ${r + 1} with plugin`, requests));
  }
  const fmt = (runs: Sample[], key: "heapMiB" | "rssMiB", digits: number) => {
    const xs = runs.map((s) => s[key]);
    return `${median(xs).toFixed(digits)} MiB (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
  };
  const diff = (key: "heapMiB" | "rssMiB", digits: number) => (median(pluginRuns.map((s) => s[key])) - median(plainRuns.map((s) => s[key]))).toFixed(digits);
  process.stdout.write(
    [
      `| Gateway (openclaw 2026.9.6, ${TURNS} chat.send turns, median of ${ROUNDS} alternating runs, range in brackets) | V8 heap in use after GC | process group RSS |`,
      "|---|---|---|",
      `| without the plugin | ${fmt(plainRuns, "heapMiB", 1)} | ${fmt(plainRuns, "rssMiB", 0)} |`,
      `| with the plugin (shipping + live forwarding on) | ${fmt(pluginRuns, "heapMiB", 1)} | ${fmt(pluginRuns, "rssMiB", 0)} |`,
      `| added by the plugin | ${diff("heapMiB", 1)} MiB | ${diff("rssMiB", 0)} MiB |`,
      "",
    ].join("\n"),
  );
} finally {
  await llm.close();
  await hub.close();
}
