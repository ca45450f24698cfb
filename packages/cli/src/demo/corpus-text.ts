/**
 * The raw material of the generated corpora: a deterministic random source and a pool of realistic text
 * (code, logs, JSON, prose with the quotes, escapes and non-ASCII that make JSON parsing expensive).
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

/**
 * A 32-bit xorshift: fast and deterministic, but of short period (8,190 draws for the bench seed), so values
 * below ~0.0008 never come. Kept for the large-events profile, whose corpora must stay as they are.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  let b = (seed * 2654435761) >>> 0 || 0x85ebca6b;
  return () => {
    let s1 = a;
    const s0 = b;
    a = s0;
    s1 ^= s1 << 23;
    s1 ^= s1 >>> 17;
    s1 ^= s0 ^ (s0 >>> 26);
    b = s1 >>> 0;
    return ((a + b) >>> 0) / 4294967296;
  };
}

const WORDS =
  "the of and to in is for on that with as by this be are from at or an it not use function return const let var if else while await async import export class new value result error data user agent session model token cache read write file path line column json object array string number true false null undefined config gateway channel message tool call output input request response status ok fail retry timeout stream chunk buffer parse render update delete create query index table row key id type name text content summary"
    .split(" ");
const UNICODE = ["é", "ü", "ß", "→", "—", "…", "日本", "中文", "😀", "✓"];

/** Uniform in [0, 1) with a long period (xoroshiro128+): rare outcomes come as often as they should. */
export function uniformSource(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => uniformFloat64(rng);
}

/** A pool of realistic text (code, logs, JSON, prose) that tool outputs and messages are cut from. */
export function buildPool(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const kind = rand();
    let chunk: string;
    if (kind < 0.35) {
      // code
      const name = WORDS[Math.floor(rand() * WORDS.length)]!;
      chunk = `export function ${name}${Math.floor(rand() * 1000)}(input: string, opts = {}) {\n  const ${name} = JSON.parse(input);\n  if (!${name}.ok) throw new Error("failed: \\"" + ${name}.error + "\\"");\n  return { "${name}": ${name}.value, path: "C:\\\\Users\\\\op\\\\${name}.ts" };\n}\n`;
    } else if (kind < 0.6) {
      // log lines
      chunk = `2026-11-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}T${String(Math.floor(rand() * 24)).padStart(2, "0")}:12:07.${Math.floor(rand() * 999)}Z INFO [${WORDS[Math.floor(rand() * WORDS.length)]}] request id=${Math.floor(rand() * 1e9).toString(16)} took ${Math.floor(rand() * 900)}ms\t${UNICODE[Math.floor(rand() * UNICODE.length)]}\n`;
    } else if (kind < 0.85) {
      // JSON output
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < 6; i++) obj[WORDS[Math.floor(rand() * WORDS.length)]!] = rand() < 0.5 ? Math.floor(rand() * 1e6) : `${WORDS[Math.floor(rand() * WORDS.length)]} "${WORDS[Math.floor(rand() * WORDS.length)]}"`;
      chunk = `${JSON.stringify(obj, null, 2)}\n`;
    } else {
      // prose
      const n = 12 + Math.floor(rand() * 30);
      const words: string[] = [];
      for (let i = 0; i < n; i++) words.push(rand() < 0.03 ? UNICODE[Math.floor(rand() * UNICODE.length)]! : WORDS[Math.floor(rand() * WORDS.length)]!);
      chunk = `${words.join(" ")}.\n`;
    }
    parts.push(chunk);
    size += chunk.length;
  }
  return parts.join("");
}
