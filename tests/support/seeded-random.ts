/**
 * Deterministic randomness for fuzz tests: a seeded PRNG (mulberry32) and the
 * helpers fuzzers need, plus a wrapper that names the seed and the case in
 * every failure so a failing run can be replayed exactly.
 *
 * Set `SKYPORT_FUZZ_SEED=<n>` to replay a run; otherwise each file uses its
 * own fixed default seed, so CI runs are reproducible too.
 */

/** mulberry32: a tiny 32-bit PRNG with good enough statistics for test inputs. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed for a fuzz run: `SKYPORT_FUZZ_SEED` when set, else the file's default. */
export function fuzzSeed(fallback: number): number {
  const raw = process.env.SKYPORT_FUZZ_SEED;
  if (raw === undefined || raw.trim() === "") return fallback;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`SKYPORT_FUZZ_SEED must be a whole number >= 0: received ${JSON.stringify(raw)}`);
  return seed;
}

/** A seeded source of test inputs. */
export class SeededRandom {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** A whole number in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  bytes(length: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** A string of `length` code points drawn from `alphabet` (default printable ASCII). */
  string(length: number, alphabet = " !#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"): string {
    const symbols = [...alphabet];
    let out = "";
    for (let i = 0; i < length; i++) out += symbols[Math.floor(this.next() * symbols.length)]!;
    return out;
  }
}

/**
 * Runs one fuzz case and, if it throws, rethrows with the seed and the case
 * label first, so the failure says how to replay it.
 */
export async function withSeed<T>(seed: number, label: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(`[SKYPORT_FUZZ_SEED=${seed}] ${label}: ${message}`);
    if (error instanceof Error && error.stack) wrapped.stack = `${wrapped.message}\n${error.stack}`;
    throw wrapped;
  }
}
