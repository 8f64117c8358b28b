/**
 * Optimiser throughput: sma-cross trials on 1,000,000 one-minute random-walk
 * bars, in-process vs a pool of worker threads, same tasks (with 2,000 return
 * buckets per trial, as the optimiser asks). Checks both give equal metrics.
 * Run: node --import tsx engine/optimize/bench.ts [bars] [trials]
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareBacktest } from "../backtest/runner";
import { defaultPoolSize, inProcessEvaluator, WorkerPool } from "./pool";
import { writeRandomWalkCsv } from "./test-data";
import type { TrialTask } from "./trial";

const bars = Number(process.argv[2] ?? 1_000_000);
const trials = Number(process.argv[3] ?? 16);
const file = join(tmpdir(), `tf-opt-bench-${bars}.csv`);
if (!existsSync(file)) await writeRandomWalkCsv(file, { bars, seed: 42 });
let t = performance.now();
const { create: _c, dataInfo: _d, ...base } = await prepareBacktest({ data: { kind: "csv", path: file }, strategy: "sma-cross" });
console.log(`loaded ${base.bars.length} bars in ${((performance.now() - t) / 1000).toFixed(2)} s`);
const tasks: TrialTask[] = Array.from({ length: trials }, (_, i) => ({ params: { fast: 5 + (i % 8) * 5, slow: 60 + Math.floor(i / 8) * 40 }, buckets: 2000 }));

const inproc = inProcessEvaluator(base);
await inproc.run(tasks.slice(0, 2)); // warm the JIT
t = performance.now();
const a = await inproc.run(tasks);
const inS = (performance.now() - t) / 1000;
console.log(`in-process: ${trials} trials in ${inS.toFixed(2)} s = ${(trials / inS).toFixed(2)} trials/s`);

const size = Number(process.env.POOL_SIZE ?? defaultPoolSize());
t = performance.now();
const pool = await WorkerPool.create(base, { size });
const startS = (performance.now() - t) / 1000;
await pool.run(tasks.slice(0, size * 2)); // warm each worker's JIT
t = performance.now();
const b = await pool.run(tasks);
const poolS = (performance.now() - t) / 1000;
await pool.close();
console.log(`pool of ${size}: start ${startS.toFixed(2)} s; ${trials} trials in ${poolS.toFixed(2)} s = ${(trials / poolS).toFixed(2)} trials/s (x${(inS / poolS).toFixed(2)})`);
const same = a.every((o, i) => {
  const p = b[i]!;
  return o.ok && p.ok && JSON.stringify(o.metrics) === JSON.stringify(p.metrics) && JSON.stringify(o.stats) === JSON.stringify(p.stats);
});
console.log(`pool results identical to in-process: ${same}`);
