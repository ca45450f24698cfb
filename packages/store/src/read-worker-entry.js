// Worker thread entry (plain JavaScript, so that loading it needs no TypeScript stripping). It turns on
// Node's compile cache before the TypeScript reader loads: each worker then skips stripping the ledger's
// modules, which took ~35 MiB of memory and a few hundred ms per worker (measured: 60 → 24 MiB at idle).
import module from "node:module";

module.enableCompileCache?.();
await import("./read-worker.ts");
