/**
 * A progress bar on stderr for long work: shown only when stderr is a terminal and the work has already
 * taken more than a second (short scans stay silent), and never in --json mode's stdout.
 */
import cliProgress from "cli-progress";

export type Progress = { update(done: number, total: number): void; stop(): void };

export function createProgress(label: string, enabled: boolean, delayMs = 1000): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, total) {
      if (!bar) {
        if (Date.now() - started < delayMs || total <= 0) return;
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${label} [{bar}] {percentage}% | {doneMiB}/{totalMiB} MiB | {eta_formatted} left`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { doneMiB: "0", totalMiB: (total / 2 ** 20).toFixed(0) });
      }
      bar.setTotal(Math.max(total, done));
      bar.update(done, { doneMiB: (done / 2 ** 20).toFixed(0), totalMiB: (Math.max(total, done) / 2 ** 20).toFixed(0) });
    },
    stop() {
      bar?.stop();
    },
  };
}
