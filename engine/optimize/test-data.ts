/**
 * Seeded random-walk OHLCV bars for the optimiser's tests and benchmark:
 * 1-minute bars from 2024-01-01T00:00Z, ISO timestamps, high >= max(open,
 * close) and low <= min(open, close), prices on a 0.01 grid.
 */
import { createWriteStream } from "node:fs";
import { mulberry32 } from "./prng";

export interface RandomWalkOptions {
  bars: number;
  seed?: number;
  /** Per-bar log-return deviation (default 0.001). */
  sigma?: number;
  start?: number;
  startPrice?: number;
}

/** Writes the CSV (header timestamp,open,high,low,close,volume) and resolves when it is on disk. */
export async function writeRandomWalkCsv(path: string, o: RandomWalkOptions): Promise<void> {
  const rng = mulberry32(o.seed ?? 1);
  const sigma = o.sigma ?? 0.001;
  const start = o.start ?? Date.UTC(2024, 0, 1);
  const gauss = () => {
    const u = 1 - rng.next();
    const v = rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const out = createWriteStream(path);
  const write = (s: string) => new Promise<void>((res) => (out.write(s) ? res() : out.once("drain", res)));
  await write("timestamp,open,high,low,close,volume\n");
  let prev = o.startPrice ?? 100;
  let chunk: string[] = [];
  for (let i = 0; i < o.bars; i++) {
    const open = r2(prev);
    const close = r2(prev * Math.exp(sigma * gauss()));
    const high = r2(Math.max(open, close) * (1 + Math.abs(gauss()) * sigma * 0.5));
    const low = r2(Math.min(open, close) * (1 - Math.abs(gauss()) * sigma * 0.5));
    chunk.push(`${new Date(start + i * 60_000).toISOString()},${open},${Math.max(high, open, close)},${Math.min(low, open, close)},${close},${1 + Math.floor(rng.next() * 100)}\n`);
    prev = close;
    if (chunk.length === 10_000) {
      await write(chunk.join(""));
      chunk = [];
    }
  }
  if (chunk.length) await write(chunk.join(""));
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}

/** A temp CSV of `bars` random-walk bars and the backtest config input that reads it. */
export async function randomWalkFixture(bars: number, seed = 1, extra: Record<string, unknown> = {}): Promise<{ dir: string; file: string; backtest: Record<string, unknown> }> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "tf-opt-"));
  const file = join(dir, "bars.csv");
  await writeRandomWalkCsv(file, { bars, seed });
  return { dir, file, backtest: { data: { kind: "csv", path: file }, strategy: "sma-cross", ...extra } };
}
