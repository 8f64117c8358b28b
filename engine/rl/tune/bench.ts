/**
 * Tuning throughput: PPO trading trials (4,096 environment steps each, 2x64
 * MLP, 4 environments, synthetic BTC-PERP-like 1m bars) in-process vs a pool
 * of min(cores, 2) worker threads, alternating `reps` times.
 *   node --import tsx engine/rl/tune/bench.ts [trials=8] [steps=4096] [reps=2]
 * Prints one JSON line per run (wall and process CPU seconds, trials/s, the
 * load average, since a busy machine skews the worker figures), the pool's
 * start-up time, and whether both modes gave identical objectives.
 */
import { availableParallelism, loadavg } from "node:os";
import { BUILTIN_INSTRUMENTS } from "../../data/instruments";
import { syntheticBars } from "../env/testdata";
import { RlWorkerPool } from "./pool";
import { runRlTuning } from "./search";

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 8);
  const steps = Number(process.argv[3] ?? 4096);
  const reps = Number(process.argv[4] ?? 2);
  const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
  const bars = syntheticBars(6000, { seed: 3, start: 40_000, tick: 0.1 });
  const deps = { loadBars: async () => ({ bars, instrument: btc }) };
  // generation 0 only: `trials` distinct genomes, every one trained
  const job = {
    base: { env: "trading" as const, algo: "ppo" as const, steps, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m" as const, window: 8, episodeLength: 256, contractSize: 0.01 } },
    space: { ppo: { learningRate: { min: 1e-4, max: 1e-2, count: 9, scale: "log" as const }, entCoef: [0, 0.005, 0.01, 0.02, 0.05], clipCoef: [0.1, 0.2, 0.3] } },
    population: trials,
    generations: 0,
    seed: 11,
  };
  const pool = Math.min(availableParallelism(), 2);
  const t0 = performance.now();
  const p = await RlWorkerPool.create({ bars, instrument: btc }, { size: pool });
  const startup = (performance.now() - t0) / 1000;
  await p.close();
  console.log(JSON.stringify({ poolStartupSeconds: Number(startup.toFixed(2)), workers: pool }));
  const results: string[] = [];
  for (let rep = 0; rep < reps; rep++)
    for (const workers of [0, pool]) {
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      const r = await runRlTuning({ ...job, workers }, deps);
      const s = (performance.now() - w0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      results.push(JSON.stringify(r.trials.map((t) => t.objectives)));
      console.log(
        JSON.stringify({
          mode: workers === 0 ? "in-process" : `${r.workers} workers`,
          fallback: r.fallback ?? null,
          trials: r.evaluations,
          failed: r.failed,
          steps,
          seconds: Number(s.toFixed(2)),
          cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
          trialsPerSecond: Number((r.evaluations / s).toFixed(3)),
          meanTrialSeconds: Number((r.trials.reduce((a, t) => a + t.seconds, 0) / r.trials.length).toFixed(3)),
          load1: Number(loadavg()[0]!.toFixed(2)),
        }),
      );
    }
  console.log(JSON.stringify({ identicalObjectives: results.every((x) => x === results[0]) }));
}

await main();
