/**
 * Import cycles between the repo's own source files, as the TypeScript compiler resolves them: `tsc --explainFiles`
 * lists every import of every file in a project (type-only imports, re-exports and `import()` included, resolved
 * through tsconfig paths and package exports), so the graph is the one the compiler sees, with no second resolver.
 * `--noCheck` makes it a parse-and-resolve pass. Files under node_modules/ or .cache/ are not ours and are left out.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

/** Every file imports the next; the last imports the first. Paths relative to the root, `/`-separated. */
export type ImportCycle = string[];

const tscPath = path.join(import.meta.dirname, "..", "node_modules", "typescript", "bin", "tsc");

/** Import edges (importer → imported) of one tsconfig project, as absolute paths. */
export function importEdges(root: string, project: string): Array<[string, string]> {
  const r = spawnSync(process.execPath, [tscPath, "-p", project, "--noEmit", "--noCheck", "--explainFiles", "--pretty", "false"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const edges: Array<[string, string]> = [];
  let current: string | undefined;
  for (const line of r.stdout.split(/\r?\n/)) {
    if (line === "") continue;
    if (!/^\s/.test(line)) {
      current = path.resolve(root, line);
      continue;
    }
    const m = /^\s+Imported via (?:"[^"]*"|'[^']*') from file '(.+?)'(?: with packageId '.*')?$/.exec(line);
    if (m && current) edges.push([path.resolve(root, m[1]!), current]);
  }
  // A failed run that listed nothing would pass as "no cycles": say why instead.
  if (r.status !== 0 && edges.length === 0) {
    throw new Error(`import-cycles: tsc -p ${project} listed no files (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return edges;
}

function isOurs(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return false;
  const parts = rel.split(path.sep);
  return !parts.includes("node_modules") && parts[0] !== ".cache";
}

/** Strongly connected components (Tarjan), iterative so deep import chains cannot overflow the stack. */
function components(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: start, i: 0 }];
    index.set(start, next); low.set(start, next); next++;
    stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = graph.get(frame.node) ?? [];
      if (frame.i < targets.length) {
        const to = targets[frame.i++]!;
        if (!index.has(to)) {
          index.set(to, next); low.set(to, next); next++;
          stack.push(to); onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const scc: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          scc.push(member);
        } while (member !== frame.node);
        out.push(scc);
      }
    }
  }
  return out;
}

/** The shortest cycle through `from` inside its component (breadth-first), as a list of files. */
function shortestCycle(graph: Map<string, string[]>, within: Set<string>, from: string): string[] {
  const parent = new Map<string, string>();
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q]!;
    for (const to of graph.get(node) ?? []) {
      if (!within.has(to)) continue;
      if (to === from) {
        const chain = [node];
        while (chain[0] !== from) chain.unshift(parent.get(chain[0]!)!);
        return chain;
      }
      if (!parent.has(to)) {
        parent.set(to, node);
        queue.push(to);
      }
    }
  }
  return [from];
}

/**
 * The import cycles among the root's own files in the given tsconfig projects: for each file on a cycle, the
 * shortest cycle through it (duplicates dropped), so every tangled file appears and each chain is a real one.
 */
export function findImportCycles(root: string, projects: string[]): ImportCycle[] {
  const graph = new Map<string, string[]>();
  for (const project of projects) {
    for (const [from, to] of importEdges(root, project)) {
      if (!isOurs(root, from) || !isOurs(root, to)) continue;
      const targets = graph.get(from) ?? [];
      if (!targets.includes(to)) targets.push(to);
      graph.set(from, targets);
      if (!graph.has(to)) graph.set(to, []);
    }
  }
  const rel = (file: string) => path.relative(root, file).split(path.sep).join("/");
  const seen = new Set<string>();
  const cycles: ImportCycle[] = [];
  for (const scc of components(graph)) {
    const within = new Set(scc);
    if (scc.length === 1 && !(graph.get(scc[0]!) ?? []).includes(scc[0]!)) continue;
    for (const file of [...scc].sort()) {
      const chain = shortestCycle(graph, within, file).map(rel);
      // One key per cycle whatever file it is read from: rotate to start at its smallest file.
      const first = chain.indexOf([...chain].sort()[0]!);
      const canonical = [...chain.slice(first), ...chain.slice(0, first)];
      const key = canonical.join("\n");
      if (seen.has(key)) continue;
      seen.add(key);
      cycles.push(canonical);
    }
  }
  return cycles.sort((a, b) => a.join("\n").localeCompare(b.join("\n")));
}

export function formatCycle(cycle: ImportCycle): string {
  return [...cycle, cycle[0]].join(" -> ");
}

// `node scripts/import-cycles.ts [root] [project...]`: prints each cycle and exits 1 if there is any.
if (import.meta.main) {
  const [rootArg, ...projectArgs] = process.argv.slice(2);
  const root = path.resolve(rootArg ?? path.join(import.meta.dirname, ".."));
  const projects = projectArgs.length > 0 ? projectArgs : ["tsconfig.json", "packages/web/tsconfig.json"];
  const cycles = findImportCycles(root, projects);
  for (const cycle of cycles) process.stderr.write(`import cycle: ${formatCycle(cycle)}\n`);
  if (cycles.length > 0) process.stderr.write(`import-cycles: ${cycles.length} import cycle(s) between source files\n`);
  process.exit(cycles.length > 0 ? 1 : 0);
}
