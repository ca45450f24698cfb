/**
 * `clawtower` command line. Parses flags, runs one command, maps errors to exit codes:
 *   0 ok · 1 nothing to report / runtime failure · 2 bad usage (unknown flag value, bad date or time zone).
 */
import { Command, CommanderError, Option } from "commander";
import { NoOpenClawHomeError, REPORT_KINDS, UsageError } from "./errors.ts";
import { versionLine } from "./version.ts";

// Commands are imported when they run: loading the store, the hub and their dependencies for every
// invocation cost ~0.3 s of start-up (measured on `clawtower --version`).

function common(cmd: Command): Command {
  return cmd
    .option("--openclaw-home <dir>", "OpenClaw state directory (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
    .option("--db <path|url>", "Clawtower store: SQLite file or postgres:// URL (default: $CLAWTOWER_DATABASE_URL or ~/.clawtower/clawtower.db)")
    .option("--json", "print JSON (schemaVersion 1) instead of a table")
    .option("-v, --verbose", "list every input problem with its file:line or db:session:seq")
    .option("--no-progress", "never show a progress bar")
    .addOption(new Option("--workers <n>", "reader threads (default: by amount to read)").hideHelp());
}

function reportFilters(cmd: Command): Command {
  return cmd
    .option("--since <when>", "from this day or instant (YYYY-MM-DD, YYYYMMDD, ISO time, or 24h / 7d ago)")
    .option("--until <when>", "up to this day (inclusive) or instant (exclusive)")
    .option("--tz <iana>", "time zone for days, weeks and months", "UTC")
    .option("--agent <id>", "only this agent");
}

export function buildProgram(): Command {
  const program = new Command()
    .name("clawtower")
    .description("Clawtower — exact usage and cost of your OpenClaw agents, from every transcript store.")
    .version(versionLine());

  const report = common(reportFilters(new Command("report")))
    .description(`usage reports: ${REPORT_KINDS.join(" | ")}`)
    .argument("[kind]", REPORT_KINDS.join(" | "), "summary")
    .option("--limit <n>", "sessions report: at most this many rows (default 50 in a table, all in --json)")
    .option("--sort <key>", "sessions report: last | cost | tokens | calls (default last)")
    .option("--csv", "print CSV (RFC 4180, a header row; the same numbers as --json) instead of a table")
    .action(async (kind: string, opts) => {
      process.exitCode = await (await import("./commands/report.ts")).runReport(kind, opts);
    });
  program.addCommand(report);

  program.addCommand(
    common(reportFilters(new Command("insights")))
      .description("recommendations with their dollar amounts: model what-ifs, cache, cron, context growth, tool errors")
      .action(async (opts) => {
        process.exitCode = await (await import("./commands/insights.ts")).runInsights(opts);
      }),
  );

  program.addCommand(
    new Command("serve")
      .description("import the OpenClaw home, keep importing, and serve the dashboard and API (the default command)")
      .option("--openclaw-home <dir>", "OpenClaw state directory (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
      .option("--db <path|url>", "Clawtower store: SQLite file or postgres:// URL (default: $CLAWTOWER_DATABASE_URL or ~/.clawtower/clawtower.db)")
      .option("--host <host>", "address to listen on (default: $CLAWTOWER_HOST or 127.0.0.1; other addresses need an admin token)")
      .option("--port <port>", "port (default: $CLAWTOWER_PORT or 4680)")
      .option("--admin-token-file <file>", "file holding the admin token, readable by its owner only (default: $CLAWTOWER_ADMIN_TOKEN; make one with `clawtower token create`)")
      .option("--allow-readable-token-file", "accept an --admin-token-file that group or others may read")
      .option("--trust-proxy", "a reverse proxy fronts the hub: believe its X-Forwarded-For / X-Forwarded-Proto (default: $CLAWTOWER_TRUST_PROXY=1)")
      .option("--no-import", "serve the store only; do not read the local OpenClaw home")
      .option("--demo", "serve a generated demo dataset")
      .option("--interval <seconds>", "seconds between imports while running", "2")
      .option("--no-progress", "never show a progress bar")
      .option("--log-format <format>", "plain (default) or json: one JSON object per line on stdout (default: $CLAWTOWER_LOG_FORMAT)")
      .addOption(new Option("--workers <n>").hideHelp())
      .action(async (opts) => {
        process.exitCode = await (await import("./commands/serve.ts")).runServe(opts);
      }),
  );

  program.addCommand(
    new Command("token")
      .description("admin tokens for a hub that requires one")
      .addCommand(
        new Command("create")
          .description("write a random admin token to a file only you can read (for serve --admin-token-file)")
          .option("--file <file>", "where to write it (default: $CLAWTOWER_HOME/admin-token)")
          .option("--force", "replace an existing file")
          .action(async (opts) => {
            process.exitCode = await (await import("./commands/token.ts")).runToken("create", opts);
          }),
      ),
  );

  program.addCommand(
    new Command("watch")
      .description("poll an OpenClaw gateway's live sessions (no LLM calls) and push the changed ones to a hub and/or AgentWatch")
      .option("--openclaw-url <url>", "gateway URL", "http://127.0.0.1:18789")
      .option("--token-file <file>", "file holding the gateway token (default: $OPENCLAW_GATEWAY_TOKEN)")
      .option("--hub-url <url>", "Clawtower hub to push session snapshots to")
      .option("--api-key-file <file>", "file holding the hub API key (default: $CLAWTOWER_API_KEY)")
      .option("--api-key <key>", "the hub API key (visible to other local users in the process list; prefer the file or env)")
      .option("--deployment <id>", "deployment to write (only for a key not bound to one)")
      .option("--agentwatch-url <url>", "AgentWatch-compatible API to POST /api/events/bulk to (key: $AGENTWATCH_API_KEY, optional)")
      .option("--poll-interval <seconds>", "seconds between polls", "30")
      .option("--batch-size <n>", "sessions per gateway page and per pushed batch", "50")
      .option("--max-errors <n>", "stop (exit 1) after this many consecutive failed polls", "10")
      .option("--log-level <level>", "DEBUG | INFO | WARNING | ERROR", "INFO")
      .option("--once", "poll once and exit: 0 on success, 1 on failure")
      .option("--kinds <list>", "session kinds to watch (main,subagent,group,cron,hook,node,other; default all but cron)")
      .option("--include-cron", "also watch cron sessions")
      .option("--active-minutes <n>", "only sessions active within this many minutes", "30")
      .option("--min-tokens <n>", "skip sessions with fewer total tokens", "10")
      .option("--state-file <file>", "where sent fingerprints are kept (default: $CLAWTOWER_HOME/watch/state-<gateway>.json)")
      .action(async (opts) => {
        process.exitCode = await (await import("./commands/watch.ts")).runWatch(opts);
      }),
  );


  const exportCmd = new Command("export").description("send the store's data to other systems");
  exportCmd.addCommand(
    new Command("otlp")
      .description("LLM calls and tool calls as OpenTelemetry GenAI spans over OTLP/HTTP (protobuf); resumes where it stopped")
      .option("--endpoint <url>", "OTLP/HTTP base URL (…/v1/traces is added unless present), e.g. http://127.0.0.1:4318")
      .option("--since <when>", "only calls from this day or instant (YYYY-MM-DD, ISO time, or 24h / 7d ago)")
      .option("--follow", "keep sending new calls until interrupted")
      .option("--headers <k=v,…>", "extra request headers, comma-separated (default: $OTEL_EXPORTER_OTLP_HEADERS)")
      .option("--interval <seconds>", "seconds between passes with --follow", "5")
      .option("--batch-size <n>", "spans per request", "2000")
      .option("--db <path|url>", "Clawtower store (default: $CLAWTOWER_DATABASE_URL or ~/.clawtower/clawtower.db)")
      .action(async (opts) => {
        process.exitCode = await (await import("./commands/export-otlp.ts")).runExportOtlp(opts);
      }),
  );
  program.addCommand(exportCmd);

  const keys = new Command("keys").description("API keys for the ingest and read APIs");
  for (const action of ["create", "list", "revoke"]) {
    const cmd = new Command(action)
      .option("--db <path|url>", "Clawtower store (default: $CLAWTOWER_DATABASE_URL or ~/.clawtower/clawtower.db)")
      .option("--json", "print JSON");
    if (action === "create") {
      cmd
        .description("create a key; prints it once")
        .option("--name <name>", "a label for the key")
        .option("--project <id>", "project the key belongs to")
        .option("--deployment <id>", "deployment (gateway) the key may write and read; without it every line must name one")
        .option("--scope <scopes...>", "ingest, read, admin (comma-separated or repeated; default: ingest)");
    }
    if (action === "list") cmd.description("list keys (never their secrets)");
    if (action === "revoke") cmd.description("revoke a key").argument("<keyId>");
    cmd.action(async (...args: unknown[]) => {
      const opts = args.find((a) => a && typeof a === "object" && !(a instanceof Command)) as Record<string, string>;
      const keyId = typeof args[0] === "string" ? args[0] : undefined;
      process.exitCode = await (await import("./commands/keys.ts")).runKeys(action, keyId, opts ?? {});
    });
    keys.addCommand(cmd);
  }
  program.addCommand(keys);

  const budgets = new Command("budgets").description("fleet budgets: spend limits the hub serves to every gateway (or one)");
  const dbOpt = (c: Command) => c.option("--db <path|url>", "Clawtower store (default: $CLAWTOWER_DATABASE_URL or ~/.clawtower/clawtower.db)").option("--json", "print JSON");
  const runBudgetsWith = (action: string) => async (...args: unknown[]) => {
    const opts = args.find((a) => a && typeof a === "object" && !(a instanceof Command)) as Record<string, unknown>;
    const arg = typeof args[0] === "string" ? args[0] : undefined;
    process.exitCode = await (await import("./commands/budgets.ts")).runBudgets(action, arg, opts ?? {});
  };
  budgets.addCommand(
    dbOpt(new Command("set"))
      .description("create or replace a budget, from FILE.json (the budget's JSON shape; - for stdin) or from flags")
      .argument("[file]")
      .option("--id <id>", "unique id ([a-z0-9-])")
      .option("--deployment <id>", "the deployment it applies to, or * (default) for every one")
      .option("--scope <key=value...>", "agent, channel, kind, cronJob, provider, model (repeat or comma-separate; none = everything)")
      .option("--period <period>", "day | week (Monday) | month")
      .option("--tz <zone>", "IANA zone of the period (default UTC)")
      .option("--limit-usd <usd>", "limit in USD")
      .option("--limit-tokens <n>", "limit in tokens")
      .option("--warn-at <fractions>", "comma-separated fractions of the limit (default 0.8)")
      .option("--action <action>", "block (default) | downgrade | warn")
      .option("--downgrade-to <provider/model>", "model for action downgrade")
      .option("--message <text>", "shown when a run is blocked ({budget} {limit} {spent} {resetsAt})")
      .action(runBudgetsWith("set")),
  );
  budgets.addCommand(dbOpt(new Command("list")).description("budgets with the fleet's spend this period and their state (ok, warn, exceeded)").option("--deployment <id>", "only those that apply to this deployment").action(runBudgetsWith("list")));
  budgets.addCommand(dbOpt(new Command("rm")).description("remove a budget").argument("<id>").action(runBudgetsWith("rm")));
  program.addCommand(budgets);

  const alerts = new Command("alerts").description("alert rules: evaluated by a running hub as data arrives, notified by webhook or Slack");
  for (const action of ["add", "list", "rm", "test", "history"]) {
    const cmd = new Command(action)
      .option("--db <path|url>", "Clawtower store (default: $CLAWTOWER_DATABASE_URL or ~/.clawtower/clawtower.db)")
      .option("--json", "print JSON");
    if (action === "add") {
      cmd
        .description("add a rule (see README, Alerts, for each kind's flags)")
        .option("--name <name>", "the rule's name (letters, digits, . _ -)")
        .option("--kind <kind>", "session-cost, session-tokens, window-spend, spend-spike, error-rate, tool-error-rate, tool-loop, context-bloat, stuck-session, budget")
        .option("--preset <name>", "bmasterai: session cost > $1, session tokens > 100,000 (warning), daily spend > $10 (critical)")
        .option("--severity <level>", "info, warning or critical (default warning)")
        .option("--for <duration>", "how long the condition must hold before the rule fires (e.g. 5m; default 0)")
        .option("--above <n>", "the threshold: USD (session-cost, window-spend), tokens (session-tokens, context-bloat), a ratio 0-1 (error rates)")
        .option("--window <w>", "window-spend / spend-spike: hour, day or month")
        .option("--tz <iana>", "time zone of the window (default UTC)")
        .option("--factor <k>", "spend-spike: fire above k × the baseline mean")
        .option("--baseline <m>", "spend-spike: how many previous windows make the baseline (default 7)")
        .option("--min-usd <x>", "spend-spike: never fire below this spend (default 1)")
        .option("--window-minutes <n>", "error-rate / tool-error-rate: the sliding window (default 60)")
        .option("--min-calls <n>", "error-rate / tool-error-rate: the smallest sample that can fire (default 20)")
        .option("--repeats <n>", "tool-loop: the same call this many times in a row")
        .option("--growing <m>", "context-bloat: prompt growing on each of the last m calls without a compaction")
        .option("--idle <minutes>", "stuck-session: a mid-turn session with no new event for this long")
        .option("--budget <name>", "budget: only this budget")
        .option("--states <list>", "budget: the states that fire (default warning,exceeded)")
        .option("--deployment <id>", "scope: only this deployment")
        .option("--agent <id>", "scope: only this agent")
        .option("--channel <name>", "scope: only sessions of this channel")
        .option("--session-kind <kind>", "scope: only sessions of this kind (main, cron, subagent, …)")
        .option("--model <model>", "scope: only calls (or sessions using) this model")
        .option("--notify <type:url...>", "webhook:URL (signed JSON) or slack:URL (incoming webhook); repeatable")
        .option("--secret <s>", "webhook signing secret (default: a random one, printed once)")
        .option("--group-wait <d>", "first notice waits this long (default 30s)")
        .option("--group-interval <d>", "a changed group waits this long after the last notice (default 5m)")
        .option("--repeat-interval <d>", "an unchanged firing group is repeated this often (default 4h)")
        .option("--disabled", "store the rule switched off");
    }
    if (action === "list") cmd.description("list rules with their firing state and channel health");
    if (action === "rm") cmd.description("remove a rule with its state and history").argument("<rule>");
    if (action === "test") cmd.description("send a sample notice through the rule's channels").argument("<rule>");
    if (action === "history") cmd.description("state changes, newest first").argument("[rule]");
    cmd.action(async (...args: unknown[]) => {
      const opts = args.find((a) => a && typeof a === "object" && !(a instanceof Command)) as Record<string, string>;
      const arg = typeof args[0] === "string" ? args[0] : undefined;
      process.exitCode = await (await import("./commands/alerts.ts")).runAlerts(action, arg, opts ?? {});
    });
    alerts.addCommand(cmd);
  }
  program.addCommand(alerts);

  program.addCommand(
    common(new Command("doctor"))
      .description("what was found where: stores, agents, sessions, archives, problems and their files, pricing")
      .option("--store", "only check the Clawtower store's pages (full SQLite integrity check); exit 1 if damaged")
      .action(async (opts) => {
        process.exitCode = opts.store ? await (await import("./commands/doctor-store.ts")).runDoctorStore(opts) : await (await import("./commands/doctor.ts")).runDoctor(opts);
      }),
  );
  withUsageErrors(program);
  return program;
}

/**
 * Commander copies exitOverride and showHelpAfterError only to commands made with `.command()`, not to those
 * added with `addCommand`: without this, an unknown option of a subcommand exited 1 with no hint of its usage.
 */
function withUsageErrors(cmd: Command): void {
  const name = commandPath(cmd);
  cmd.exitOverride().showHelpAfterError(`Usage: ${name} ${cmd.usage()}\n(${name} --help lists every option)`);
  for (const sub of cmd.commands) withUsageErrors(sub);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // `clawtower` alone runs the main job: import and serve.
  const args = argv.length === 0 ? ["serve"] : argv;
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`clawtower: ${e.message}\n`);
      return 2;
    }
    // By name: main.ts does not load the store (errors.ts); a damaged store's message names the file and the recovery.
    if (e instanceof NoOpenClawHomeError || (e as Error | null)?.name === "StoreDamagedError") {
      process.stderr.write(`clawtower: ${(e as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`clawtower: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
