/**
 * `node bench/gateway-rss.ts [--turns 5]`: what the plugin adds to a real Gateway's memory.
 *
 * Two fresh OpenClaw 2026.9.6 homes against the fake LLM, identical but for the Clawtower plugin (installed from
 * `npm pack`, shipping to a hub on loopback with live forwarding on). Each runs `openclaw gateway run`, answers
 * --turns `chat.send` turns, settles, and the resident memory of the Gateway's whole process group is read from
 * /proc. Prints one Markdown table: RSS without the plugin, with it, and the difference.
 */
import fs from "node:fs";
import path from "node:path";
import { createOpenClawHome, ensureOpenClaw, pathWithNode24, runOpenClaw, runProcess, startGateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { tmpDir } from "@clawtower/testkit";
import { startFakeLlm } from "@clawtower/testkit/fake-llm";
import { startTestHub } from "../packages/openclaw-plugin/test/helpers.ts";

const args = process.argv.slice(2);
const TURNS = Number(args[args.indexOf("--turns") + 1] ?? 5) || 5;
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

async function measure(home: OpenClawHome, label: string, requests: () => number): Promise<number> {
  const gw = await startGateway(home, { readyTimeoutMs: 180_000 });
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
    await new Promise((r) => setTimeout(r, 8_000)); // let forwarding, flushes and GC settle
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(groupRssMiB(gw.pid));
      await new Promise((r) => setTimeout(r, 1_000));
    }
    samples.sort((a, b) => a - b);
    const median = samples[2]!;
    log(`${label}: gateway RSS ${median.toFixed(0)} MiB (samples ${samples.map((s) => s.toFixed(0)).join(", ")})`);
    return median;
  } finally {
    await gw.stop();
  }
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
  const a1 = await measure(plain, "without plugin", requests);
  const b1 = await measure(withPlugin, "with plugin", requests);
  const a2 = await measure(plain, "without plugin", requests);
  const b2 = await measure(withPlugin, "with plugin", requests);
  const without = (a1 + a2) / 2;
  const withP = (b1 + b2) / 2;
  process.stdout.write(
    [
      `| Gateway (openclaw 2026.9.6, ${TURNS} chat.send turns, process group RSS, mean of 2 runs) | RSS |`,
      "|---|---|",
      `| without the plugin | ${without.toFixed(0)} MiB |`,
      `| with the plugin (shipping + live forwarding on) | ${withP.toFixed(0)} MiB |`,
      `| added by the plugin | ${(withP - without).toFixed(1)} MiB |`,
      "",
    ].join("\n"),
  );
} finally {
  await llm.close();
  await hub.close();
}
