/**
 * The import-cycle check of `npm run typecheck` (scripts/import-cycles.ts), on tiny trees whose graphs are known
 * here, and on the repo itself.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { findImportCycles } from "../../../scripts/import-cycles.ts";
import { tmpDir } from "../src/tmp.ts";

const repo = path.resolve(import.meta.dirname, "../../..");
const script = path.join(repo, "scripts", "import-cycles.ts");

/** A project like the repo's (nodenext, .ts imports) holding the given files. */
function tree(files: Record<string, string>): string {
  const root = tmpDir("clawtower-cycles-");
  const tsconfig = {
    compilerOptions: { module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, allowImportingTsExtensions: true, verbatimModuleSyntax: true, types: [] },
    include: ["src/**/*.ts"],
  };
  fs.writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify(tsconfig));
  fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ type: "module" }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

function run(root: string): { status: number | null; err: string } {
  const r = spawnSync(process.execPath, [script, root, "tsconfig.json"], { encoding: "utf8" });
  return { status: r.status, err: r.stderr };
}

it("a cycle closed by a type-only import fails the check and is printed as a chain of files", () => {
  const root = tree({
    "src/a.ts": `import { b } from "./b.ts";\nexport type A = { n: number };\nexport const a = b + 1;\n`,
    "src/b.ts": `import { c } from "./c.ts";\nexport const b = c * 2;\n`,
    "src/c.ts": `import type { A } from "./a.ts";\nexport const c: A["n"] = 3;\n`,
    "src/leaf.ts": `import { a } from "./a.ts";\nexport const leaf = a;\n`,
  });
  assert.deepEqual(findImportCycles(root, ["tsconfig.json"]), [["src/a.ts", "src/b.ts", "src/c.ts"]]);
  const r = run(root);
  assert.equal(r.status, 1);
  assert.match(r.err, /^import cycle: src\/a\.ts -> src\/b\.ts -> src\/c\.ts -> src\/a\.ts$/m);
});

it("re-exports count as imports, and two cycles through one file are both reported", () => {
  const root = tree({
    "src/hub.ts": `export { x } from "./x.ts";\nexport * from "./y.ts";\n`,
    "src/x.ts": `import type { Y } from "./hub.ts";\nexport const x = 1;\nexport type X = Y;\n`,
    "src/y.ts": `import { x } from "./hub.ts";\nexport type Y = number;\nexport const y = x;\n`,
  });
  assert.deepEqual(findImportCycles(root, ["tsconfig.json"]), [
    ["src/hub.ts", "src/x.ts"],
    ["src/hub.ts", "src/y.ts"],
  ]);
  assert.equal(run(root).status, 1);
});

it("a tree without cycles passes, diamonds and shared leaves included", () => {
  const root = tree({
    "src/refs.ts": `export type Ref = { id: string };\n`,
    "src/left.ts": `import type { Ref } from "./refs.ts";\nexport const left = (r: Ref) => r.id;\n`,
    "src/right.ts": `import type { Ref } from "./refs.ts";\nexport { type Ref } from "./refs.ts";\nexport const right = (r: Ref) => r.id.length;\n`,
    "src/top.ts": `import { left } from "./left.ts";\nimport { right } from "./right.ts";\nexport const top = [left, right];\n`,
  });
  assert.deepEqual(findImportCycles(root, ["tsconfig.json"]), []);
  const r = run(root);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.err, "");
});

it("a project tsc cannot read is an error, not a pass", () => {
  const root = tree({ "src/a.ts": `export const a = 1;\n` });
  assert.throws(() => findImportCycles(root, ["missing.json"]), /listed no files/);
  assert.notEqual(run(path.join(root, "nowhere")).status, 0);
});

it("the repo's own files have no import cycles", () => {
  assert.deepEqual(findImportCycles(repo, ["tsconfig.json", "packages/web/tsconfig.json"]), []);
});
