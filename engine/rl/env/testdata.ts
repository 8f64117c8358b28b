/**
 * Deterministic synthetic bars for the RL tests and benchmarks: a random walk
 * on a tick grid with a little volatility clustering, bar-start timestamps
 * every `barMs` from 2024-01-01 UTC.
 */
import type { BarColumns } from "../../data/types";
import { Prng } from "./prng";

export function syntheticBars(n: number, opts: { seed?: number; start?: number; tick?: number; barMs?: number; stepTicks?: number } = {}): BarColumns {
  const rnd = new Prng(opts.seed ?? 1);
  const tick = opts.tick ?? 0.25;
  const barMs = opts.barMs ?? 60_000;
  const step = (opts.stepTicks ?? 8) * tick;
  const snap = (p: number) => (tick > 0 ? Math.round(p / tick) * tick : p);
  const b: BarColumns = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  let p = opts.start ?? 15_000;
  let vol = 1;
  const t0 = Date.UTC(2024, 0, 1);
  const minP = Math.max(tick, 1);
  for (let i = 0; i < n; i++) {
    vol = Math.min(4, Math.max(0.25, vol * Math.exp(0.1 * rnd.normal())));
    const o = Math.max(minP, snap(p + (rnd.float() < 0.1 ? rnd.normal() * step * 0.5 : 0)));
    const c = Math.max(minP, snap(o + rnd.normal() * step * vol));
    const h = Math.max(o, c) + snap(rnd.float() * step * vol);
    const l = Math.max(minP, Math.min(o, c) - snap(rnd.float() * step * vol));
    b.ts[i] = t0 + i * barMs;
    b.open[i] = o;
    b.high[i] = h;
    b.low[i] = l;
    b.close[i] = c;
    b.volume[i] = 1 + Math.floor(rnd.float() * 1000);
    p = c;
  }
  return b;
}
