// Preload (`NODE_OPTIONS=--import <this file>`) that shifts the process clock by CLAWTOWER_CLOCK_OFFSET_MS
// milliseconds: `Date.now()`, `new Date()` and `Date()` report "now + offset". Used to produce OpenClaw
// sessions whose activity lies in the past (cold-storage eligibility, idle rollover) without touching the
// system clock; OpenClaw has no clock override of its own. `performance.now()` and timers are unaffected.
const offset = Number(process.env.CLAWTOWER_CLOCK_OFFSET_MS ?? 0);
if (Number.isFinite(offset) && offset !== 0) {
  const RealDate = globalThis.Date;
  const now = () => RealDate.now() + offset;
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget);
    },
    apply() {
      return new RealDate(now()).toString();
    },
    get(target, prop, receiver) {
      return prop === "now" ? now : Reflect.get(target, prop, receiver);
    },
  });
}
