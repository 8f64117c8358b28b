/**
 * npm run bench:backtest
 * 1. the 1M-bar reference (SMA 10/30 crossover, size 100, fee 1 per fill, cash 1M) end to end
 *    from CSV: parse + firewall + backtest + metrics            target >= 3M bars/s
 * 2. the in-memory event loop with orders, fills and accounting  target >= 10M bars/s
 * 3. peak memory of the end-to-end run for 1M bars (child process) target <= 200 MB
 * Anchors measured in the same run: reading the file into memory, and a bare loop
 * over the same bars computing the two SMAs and nothing else.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBacktest } from "../core/backtest";
import { executePrepared, prepareBacktest } from "../backtest/runner";
import { SmaCross } from "../core/strategies/builtin";
import { UNIT_INSTRUMENT } from "../backtest/runner";
import { writeBenchCsv } from "./gen";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "tf-bench-bt-"));
const csv = join(dir, "bars.csv");

if (process.argv[2] === "--child") {
  // measured in a fresh process: peak RSS of one end-to-end run
  const p = await prepareBacktest(JSON.parse(process.argv[3]!));
  const r = executePrepared(p);
  process.stdout.write(JSON.stringify({ fills: r.result.fillCount, finalValue: r.result.finalValue, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + "\n");
  process.exit(0);
}

const source = writeBenchCsv(csv, ROWS, 42);
const bytes = statSync(csv).size;
const config = { data: { kind: "csv", path: csv }, strategy: "sma-cross", params: { fast: 10, slow: 30 }, size: 100, cash: 1_000_000, commission: { kind: "per_fill", amount: 1 }, instrument: "unit" };

// anchor 1: read the file
const r0 = performance.now();
readFileSync(csv);
const readMs = performance.now() - r0;

// 1. end to end (best of 3)
const e2e: number[] = [];
let fills = 0;
let finalValue = 0;
let prepared = await prepareBacktest(config);
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  prepared = await prepareBacktest(config);
  const r = executePrepared(prepared);
  e2e.push(performance.now() - t0);
  fills = r.result.fillCount;
  finalValue = r.result.finalValue;
}
const e2eMs = Math.min(...e2e);
const bars = prepared.to - prepared.from;

// 2. in-memory event loop (best of 5): orders, fills, accounting, indicators, equity curve
const loops: number[] = [];
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  const r = runBacktest(prepared.bars, { instrument: UNIT_INSTRUMENT, strategy: new SmaCross({ fast: 10, slow: 30, size: 100, mode: "long_only" }), cash: 1_000_000, barMs: 60_000, commission: { kind: "per_fill", amount: 1 }, recordFills: false });
  loops.push(performance.now() - t0);
  if (r.fillCount !== fills) throw new Error(`loop fills ${r.fillCount} != ${fills}`);
}
const loopMs = Math.min(...loops);

// anchor 2: a bare loop computing SMA(10) and SMA(30) over the closes, nothing else
const close = prepared.bars.close;
const bare: number[] = [];
let sink = 0;
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  let s10 = 0, s30 = 0;
  for (let i = 0; i < bars; i++) {
    s10 += close[i]! - (i >= 10 ? close[i - 10]! : 0);
    s30 += close[i]! - (i >= 30 ? close[i - 30]! : 0);
    if (s10 / 10 > s30 / 30) sink++;
  }
  bare.push(performance.now() - t0);
}
const bareMs = Math.min(...bare);

// 3. peak memory in a child process started like `npm run backtest` and the engine (same V8 flags)
const child = JSON.parse(execFileSync(process.execPath, ["--max-semi-space-size=8", "--import", "tsx", new URL(import.meta.url).pathname, "--child", JSON.stringify(config)], { encoding: "utf8" }).trim().split("\n").pop()!);

const mps = (ms: number) => ((bars / ms) * 1000) / 1e6;
console.log(`data: ${source}; ${bars.toLocaleString()} bars, ${(bytes / 1e6).toFixed(1)} MB CSV`);
console.log(`reference run: fills ${fills}, final value ${finalValue.toFixed(2)}`);
console.log(`end to end from CSV (parse + firewall + backtest + metrics): ${mps(e2eMs).toFixed(2)} M bars/s (${e2eMs.toFixed(0)} ms, best of 3)   target >= 3 M bars/s   anchor: reading the file alone ${readMs.toFixed(0)} ms`);
console.log(`in-memory event loop (orders, fills, accounting):           ${mps(loopMs).toFixed(2)} M bars/s (${loopMs.toFixed(1)} ms, best of 5)   target >= 10 M bars/s   anchor: bare SMA loop ${mps(bareMs).toFixed(0)} M bars/s`);
console.log(`peak memory, one end-to-end run in a fresh process:        ${child.maxRssMb.toFixed(0)} MB   target <= 200 MB`);
console.log(JSON.stringify({ bars, fills, finalValue, e2eMs: Math.round(e2eMs), e2eBarsPerSec: Math.round((bars / e2eMs) * 1000), loopMs: Number(loopMs.toFixed(1)), loopBarsPerSec: Math.round((bars / loopMs) * 1000), readMs: Math.round(readMs), bareMs: Number(bareMs.toFixed(1)), peakRssMb: Math.round(child.maxRssMb), sink: sink > 0 }));
rmSync(dir, { recursive: true, force: true });
