/**
 * Splitting a time range into pieces that pre-aggregated rollups can answer exactly: whole UTC days from
 * the day rollup, whole hours from the hour rollup, whole 15-minute slots from the slot rollup, and only
 * the sub-slot edges from the rows themselves. A report bucketed by day/week/month of some time zone
 * splits each bucket separately, so no rollup unit ever straddles a bucket boundary.
 */

export const LEVEL_MS = { day: 86_400_000, hour: 3_600_000, slot: 900_000 } as const;
export type Level = keyof typeof LEVEL_MS;
export type PieceLevel = Level | "raw";

/** [from, to) in epoch ms, answered at `level`; `bucket` is the caller's bucket index. */
export type Piece = { level: PieceLevel; from: number; to: number; bucket: number };

/** Bounds used for an unbounded side of a range: far enough to cover any data, aligned to days. */
export const ALL_TIME = { from: 0, to: 400_000 * LEVEL_MS.day } as const;

const ceilTo = (x: number, unit: number) => Math.ceil(x / unit) * unit;
const floorTo = (x: number, unit: number) => Math.floor(x / unit) * unit;

/** Pieces covering [from, to) exactly, coarsest first where alignment allows. */
export function decompose(from: number, to: number, bucket = 0): Piece[] {
  const out: Piece[] = [];
  if (!(to > from)) return out;
  const push = (level: PieceLevel, a: number, b: number) => {
    if (b > a) out.push({ level, from: a, to: b, bucket });
  };
  // Work inwards from both ends: [from … left] fine pieces, [left … right] coarse, [right … to] fine.
  const order: Level[] = ["slot", "hour", "day"];
  let left = from;
  let right = to;
  let prevLevel: PieceLevel = "raw";
  for (const level of order) {
    const unit = LEVEL_MS[level];
    const l = ceilTo(left, unit);
    const r = floorTo(right, unit);
    if (l >= r) {
      // No whole unit of this level fits: the remainder is answered at the previous (finer) level.
      push(prevLevel, left, right);
      return out.sort((a, b) => a.from - b.from);
    }
    push(prevLevel, left, l);
    push(prevLevel, r, right);
    left = l;
    right = r;
    prevLevel = level;
  }
  push("day", left, right);
  return out.sort((a, b) => a.from - b.from);
}

/** Pieces for several buckets ([starts[i], starts[i + 1]) for each i), with bucket indexes. */
export function decomposeBuckets(boundaries: number[]): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i + 1 < boundaries.length; i++) out.push(...decompose(boundaries[i]!, boundaries[i + 1]!, i));
  return out;
}
