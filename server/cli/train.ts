/**
 * npm run --silent train -- --env cartpole --algo ppo|dqn --steps 500000 --seed 1 [--json]
 *   [--num-envs N] [--stop-at RETURN] [--checkpoint FILE] [--resume FILE]
 *
 * Trains an agent with PPO / DQN (engine/rl/algos; updates through the ONNX training step) and reports the mean
 * return over the last 100 episodes. With --json the last stdout line is one JSON object:
 *   { env, algo, seed, steps, meanReturn100, episodes, stepsPerSecond, elapsedMs, solvedAtStep }
 * (solvedAtStep: the first environment step at which the 100-episode mean reached 475, or null;
 * a resumed run that was already there reports the step it resumed at).
 * Without --json, progress goes to stderr and a summary to stdout. Bad arguments exit with code 2
 * and a message naming the argument. --stop-at ends the run once the 100-episode mean reaches the
 * value; --checkpoint writes a checkpoint (weights, optimiser, RNG, environment; replay buffer for
 * DQN) when the run ends; --resume continues one exactly (the algorithm and environment must match).
 * Ctrl-C stops after the current iteration and still reports.
 *
 * npm run --silent train -- --config FILE.json [--json] [--no-save]
 *   Runs the configuration the app and the engine take (engine/rl/train/config.ts: env cartpole or
 *   trading on a stored series, algo, steps, seed, hyperparameters, trading settings), evaluates it
 *   (trading: in-sample and out-of-sample metrics beside baselines) and, unless --no-save, stores the
 *   run and registers the policy (ONNX) in the platform's database, where the Training page shows it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Dqn, type DqnLog } from "@/engine/rl/algos/dqn";
import { Ppo, type PpoLog } from "@/engine/rl/algos/ppo";
import { CartPoleVec } from "@/engine/rl/cartpole/cartpole";

const SOLVED = 475;

function fail(msg: string, code = 2): never {
  process.stderr.write(`train: ${msg}\n`);
  process.exit(code);
}

function intArg(v: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

function main(): void {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        env: { type: "string" },
        algo: { type: "string" },
        steps: { type: "string" },
        seed: { type: "string" },
        "num-envs": { type: "string" },
        "stop-at": { type: "string" },
        checkpoint: { type: "string" },
        resume: { type: "string" },
        json: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  const errors: string[] = [];
  if (v.env === undefined) errors.push("--env is required (cartpole)");
  else if (v.env !== "cartpole") errors.push(`--env must be cartpole, got '${v.env}' (trading runs: --config FILE.json)`);
  if (v.algo === undefined) errors.push("--algo is required (ppo or dqn)");
  else if (v.algo !== "ppo" && v.algo !== "dqn") errors.push(`--algo must be ppo or dqn, got '${v.algo}'`);
  if (errors.length) fail(errors.join("\ntrain: "));
  const algo = v.algo as "ppo" | "dqn";
  const steps = intArg(v.steps, "steps", 1, 1e10) ?? 500_000;
  const seed = intArg(v.seed, "seed", 0, 2 ** 32 - 1) ?? 1;
  const numEnvs = intArg(v["num-envs"], "num-envs", 1, 4096) ?? (algo === "ppo" ? 4 : 1);
  if (algo === "ppo" && v.resume === undefined && steps < numEnvs * 128) fail(`--steps must be at least ${numEnvs * 128} for ppo (one rollout of 128 steps per environment), got ${steps}`);
  let stopAt: number | undefined;
  if (v["stop-at"] !== undefined) {
    stopAt = Number(v["stop-at"]);
    if (v["stop-at"].trim() === "" || !Number.isFinite(stopAt)) fail(`--stop-at must be a number, got '${v["stop-at"]}'`);
  }
  let resumeBuf: Buffer | undefined;
  if (v.resume !== undefined) {
    try {
      resumeBuf = readFileSync(v.resume);
    } catch (err) {
      fail(`--resume: cannot read ${v.resume}: ${(err as Error).message}`);
    }
  }

  const env = new CartPoleVec(numEnvs);
  let stop = false;
  process.once("SIGINT", () => (stop = true));
  const progress = (s: string) => {
    if (!v.json) process.stderr.write(s + "\n");
  };
  const t0 = performance.now();
  let solvedAtStep: number | null = null;
  let runSeed = seed;
  let stepsDone = 0,
    startStep = 0,
    meanReturn100 = NaN,
    episodes = 0;
  let checkpoint: () => Buffer;

  try {
    if (algo === "ppo") {
      const ppo = resumeBuf ? Ppo.restore(env, resumeBuf) : new Ppo(env, { seed, totalTimesteps: steps });
      startStep = ppo.globalStep;
      if (ppo.episodes.reached(SOLVED)) solvedAtStep = ppo.globalStep;
      ppo.train({
        maxSteps: steps,
        onLog: (l: PpoLog) => {
          if (solvedAtStep === null && ppo.episodes.reached(SOLVED)) solvedAtStep = l.globalStep;
          if (l.iteration % 10 === 0 || ppo.done)
            progress(
              `iter ${l.iteration}/${ppo.numIterations} step ${l.globalStep} mean100 ${l.meanReturn100.toFixed(1)} episodes ${l.episodes} pg ${l.policyLoss.toFixed(4)} v ${l.valueLoss.toFixed(3)} ent ${l.entropy.toFixed(3)} kl ${l.approxKl.toFixed(5)} clip ${l.clipFrac.toFixed(3)} sps ${Math.round(l.stepsPerSecond)}`,
            );
        },
        stop: () => stop || (stopAt !== undefined && ppo.episodes.reached(stopAt)),
      });
      stepsDone = ppo.globalStep;
      runSeed = ppo.config.seed;
      meanReturn100 = ppo.episodes.meanReturn();
      episodes = ppo.episodes.count;
      checkpoint = () => ppo.checkpoint();
    } else {
      const dqn = resumeBuf ? Dqn.restore(env, resumeBuf) : new Dqn(env, { seed, totalTimesteps: steps });
      startStep = dqn.globalStep;
      if (dqn.episodes.reached(SOLVED)) solvedAtStep = dqn.globalStep;
      let lastEp = dqn.episodes.count;
      dqn.train({
        maxSteps: steps,
        logEvery: 10_000,
        onLog: (l: DqnLog) =>
          progress(`step ${l.globalStep} eps ${l.epsilon.toFixed(3)} mean100 ${l.meanReturn100.toFixed(1)} episodes ${l.episodes} td ${l.tdLoss.toFixed(4)} q ${l.qValue.toFixed(2)} sps ${Math.round(l.stepsPerSecond)}`),
        stop: (d) => {
          if (d.episodes.count !== lastEp) {
            lastEp = d.episodes.count;
            if (solvedAtStep === null && d.episodes.reached(SOLVED)) solvedAtStep = d.globalStep;
            if (stopAt !== undefined && d.episodes.reached(stopAt)) return true;
          }
          return stop;
        },
      });
      stepsDone = dqn.globalStep;
      runSeed = dqn.config.seed;
      meanReturn100 = dqn.episodes.meanReturn();
      episodes = dqn.episodes.count;
      checkpoint = () => dqn.checkpoint();
    }
  } catch (err) {
    fail((err as Error).message, 1);
  }
  const elapsedMs = performance.now() - t0;
  if (v.checkpoint !== undefined) {
    try {
      writeFileSync(v.checkpoint, checkpoint());
    } catch (err) {
      fail(`--checkpoint: cannot write ${v.checkpoint}: ${(err as Error).message}`, 1);
    }
  }
  const summary = {
    env: "cartpole",
    algo,
    seed: runSeed,
    steps: stepsDone,
    meanReturn100: Number.isNaN(meanReturn100) ? null : meanReturn100,
    episodes,
    stepsPerSecond: Math.round((stepsDone - startStep) / (elapsedMs / 1000)),
    elapsedMs: Math.round(elapsedMs),
    solvedAtStep,
  };
  if (v.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else
    process.stdout.write(
      `${algo} on CartPole-v1, seed ${runSeed}: ${stepsDone} steps, ${episodes} episodes, mean return over the last 100 episodes ${summary.meanReturn100?.toFixed(2) ?? "n/a"}` +
        `${solvedAtStep !== null ? ` (>= ${SOLVED} first at step ${solvedAtStep})` : ""}, ${summary.stepsPerSecond} steps/s, ${(elapsedMs / 1000).toFixed(1)} s\n`,
    );
}

async function configMain(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: { config: { type: "string" }, json: { type: "boolean", default: false }, "no-save": { type: "boolean", default: false } }, strict: true, allowPositionals: false });
  } catch (err) {
    fail(`${(err as Error).message} (with --config, only --json and --no-save may be added)`);
  }
  const v = parsed.values;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(v.config!, "utf8")) as Record<string, unknown>;
  } catch (err) {
    fail(`--config: cannot read ${v.config} as JSON: ${(err as Error).message}`);
  }
  const { TrainingSession } = await import("@/engine/rl/train/session");
  const { TrainConfigError } = await import("@/engine/rl/train/config");
  const needDb = config.env === "trading" || !v["no-save"];
  let sql: import("@/engine/store/sql").Sql | null = null;
  if (needDb) {
    const { loadEnvOrExit } = await import("@/engine/runtime/env");
    const { migrate } = await import("@/prisma/migrate");
    const { openSql } = await import("@/engine/store/sql");
    const env = loadEnvOrExit("train");
    await migrate(env.databaseUrl);
    sql = openSql(env.databaseUrl);
    const { ensureBuiltinInstruments } = await import("@/engine/store/instruments");
    await ensureBuiltinInstruments(sql);
  }
  const { trainDeps, codeVersion } = await import("@/engine/train-service");
  let session;
  try {
    session = await TrainingSession.create(config, sql ? trainDeps(sql) : {});
  } catch (e) {
    await sql?.close();
    if (e instanceof TrainConfigError) fail(e.message, 2);
    fail((e as Error).message, 1);
  }
  let stop = false;
  process.once("SIGINT", () => (stop = true));
  const t0 = performance.now();
  let lastPrint = 0;
  try {
    while (!session.done && !stop) {
      const p = session.step();
      if (!v.json && performance.now() - lastPrint > 1000) {
        lastPrint = performance.now();
        process.stderr.write(`step ${p.step}/${session.totalSteps} mean100 ${p.meanReturn100?.toFixed(2) ?? "-"} sps ${p.stepsPerSecond}\n`);
      }
    }
    const report = session.evaluate();
    let saved: { runId: string; modelId: string } | null = null;
    if (sql && !v["no-save"] && session.done) {
      const { randomUUID } = await import("node:crypto");
      const { createTrainingRun, updateTrainingRun, saveModel } = await import("@/engine/store/training");
      const c = session.config;
      const runId = randomUUID();
      const modelId = randomUUID();
      const name = c.name ?? `${c.algo.toUpperCase()} ${c.env === "trading" ? `${c.trading!.symbol} ${c.trading!.timeframe}` : "CartPole"} seed ${c.seed} (CLI)`;
      const onnx = session.policyOnnx();
      await createTrainingRun(sql, { id: runId, name, env: c.env, algo: c.algo, seed: c.seed, config, totalSteps: session.totalSteps });
      await saveModel(sql, { id: modelId, name, runId, algo: c.algo, env: c.env, hyperparams: { ...(c.algo === "ppo" ? c.ppo : c.dqn), numEnvs: session.env.numEnvs, steps: c.steps, network: onnx.spec }, featureSpec: c.env === "trading" ? { window: c.trading!.window, features: "default", normalisation: "expanding (past only)", actions: c.trading!.actions, contractSize: c.trading!.contractSize, maxUnits: 1, cash: c.trading!.cash, unrealizedScale: c.trading!.cash * 0.01, flatAtSessionEnd: c.trading!.flatAtSessionEnd, obsSize: session.env.obsSize, numActions: session.env.numActions, symbol: c.trading!.symbol, timeframe: c.trading!.timeframe } : null, dataSpans: report.trading?.spans ?? null, seed: c.seed, metrics: report, codeVersion: codeVersion(), onnx: onnx.bytes });
      await updateTrainingRun(sql, runId, { status: "done", steps: session.globalStep, curves: session.curves, summary: { ...report, modelId }, checkpoint: session.checkpoint() });
      saved = { runId, modelId };
    }
    const elapsedMs = performance.now() - t0;
    const out = {
      env: report.env,
      algo: report.algo,
      seed: report.seed,
      steps: report.steps,
      meanReturn100: report.meanReturn100,
      episodes: report.episodes,
      stepsPerSecond: Math.round(session.globalStep / (elapsedMs / 1000)),
      elapsedMs: Math.round(elapsedMs),
      ...(report.evaluation ? { evaluation: report.evaluation } : {}),
      ...(report.trading ? { inSample: report.trading.inSample.metrics, outOfSample: report.trading.outOfSample.metrics, spans: report.trading.spans, baselines: report.trading.baselines.map((b) => ({ name: b.name, label: b.label, totalReturn: b.metrics.totalReturn, sharpe: b.metrics.sharpe })) } : {}),
      ...(saved ?? {}),
      stopped: !session.done,
    };
    if (v.json) process.stdout.write(JSON.stringify(out) + "\n");
    else process.stdout.write(`${out.algo} on ${out.env}: ${out.steps} steps, mean return (100 episodes) ${out.meanReturn100?.toFixed(2) ?? "n/a"}, ${out.stepsPerSecond} steps/s${saved ? `, saved as run ${saved.runId}, model ${saved.modelId}` : ""}\n`);
  } finally {
    await sql?.close();
  }
}

if (process.argv.includes("--config")) configMain().catch((e: Error) => fail(e.stack ?? e.message, 1));
else main();
