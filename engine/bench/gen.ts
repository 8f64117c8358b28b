/**
 * Benchmark data: ../shared/bench/gen_ohlcv.mjs when it is present (the
 * reference generator behind the published backtrader figures), otherwise a
 * built-in deterministic random walk of 1-minute bars.
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded random walk: `timestamp,open,high,low,close,volume`, 1-minute bars from 2020-01-01 UTC. */
export function builtinCsv(rows: number, opts: { seed?: number; start?: number; step?: number; tick?: number } = {}): string {
  const rnd = mulberry32(opts.seed ?? 42);
  const startTs = Date.UTC(2020, 0, 1);
  const tick = opts.tick ?? 0.01;
  const step = opts.step ?? 0.2;
  const dec = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9));
  const snap = (p: number) => Math.round(p / tick) * tick;
  const parts: string[] = ["timestamp,open,high,low,close,volume"];
  let price = opts.start ?? 100;
  for (let i = 0; i < rows; i++) {
    const o = snap(price);
    const c = Math.max(tick, snap(o + (rnd() - 0.5) * 2 * step));
    const h = Math.max(o, c) + snap(rnd() * step * 0.5);
    const l = Math.max(tick, Math.min(o, c) - snap(rnd() * step * 0.5));
    const v = 1 + Math.floor(rnd() * 500);
    price = c;
    const ts = new Date(startTs + i * 60_000).toISOString().replace("T", " ").slice(0, 19);
    parts.push(`${ts},${o.toFixed(dec)},${h.toFixed(dec)},${l.toFixed(dec)},${c.toFixed(dec)},${v}`);
  }
  return parts.join("\n") + "\n";
}

export const SHARED_GEN = resolve(process.cwd(), "..", "shared", "bench", "gen_ohlcv.mjs");

/**
 * Writes `rows` bars to `path`. Uses the shared generator if present (trying its
 * common argument forms), else the built-in one. Returns a description of the source.
 */
export function writeBenchCsv(path: string, rows: number, seed = 42, builtin: Parameters<typeof builtinCsv>[1] = {}): string {
  if (existsSync(SHARED_GEN)) {
    const forms = [[String(rows), String(seed)], ["--rows", String(rows), "--seed", String(seed)], ["--n", String(rows), "--seed", String(seed)]];
    for (const args of forms) {
      try {
        const out = execFileSync(process.execPath, [SHARED_GEN, ...args], { maxBuffer: 1 << 31, stdio: ["ignore", "pipe", "ignore"] });
        const head = out.subarray(0, 200).toString("utf8").toLowerCase();
        if (head.includes("open") && out.length > rows * 10) {
          writeFileSync(path, out);
          return `../shared/bench/gen_ohlcv.mjs ${args.join(" ")}`;
        }
      } catch {
        // try the next form
      }
    }
    console.log(`[notice] could not get CSV output from ${SHARED_GEN}; using the built-in generator`);
  } else {
    console.log("[notice] ../shared/bench/gen_ohlcv.mjs not found: using the built-in generator (figures are not the published reference)");
  }
  writeFileSync(path, builtinCsv(rows, { seed, ...builtin }));
  return `built-in seeded random walk (seed ${seed})`;
}
