import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { builtinCsv, SHARED_GEN } from "../bench/gen";
import type { Strategy } from "../core/ports";
import { BacktestInputError, type ModelResolver, prepareBacktest, runConfiguredBacktest, type RunnerDeps } from "./runner";
import { readCsvBars } from "./csv-bars";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tf-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const csv = join(dir, "walk.csv");
writeFileSync(csv, builtinCsv(5000, { seed: 3 }));

const base = { data: { kind: "csv", path: csv }, strategy: "sma-cross", params: { fast: 10, slow: 30 }, size: 100, cash: 1_000_000, commission: { kind: "per_fill", amount: 1 }, instrument: "unit" };

async function inputError(cfg: unknown): Promise<BacktestInputError> {
  try {
    await prepareBacktest(cfg);
  } catch (e) {
    if (e instanceof BacktestInputError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("backtest runner", () => {
  it("runs from a CSV through the importer's parser and firewall, with every row accounted for", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(
      bad,
      ["Timestamp,Open,High,Low,Close,Volume", "2024-01-01 00:02:00,10,11,9,10.5,5", "2024-01-01 00:00:00,10,11,9,10,5", "2024-01-01 00:01:00,10,9,11,10,5", "2024-01-01 00:03:00,10,11,9,10.5,5", "2024-01-01 00:03:00,10,11,9,10.7,5", "2024-01-01 00:03:00,10,11,9,10.5,5", "oops", "2024-01-01 00:04:00,10,11,9,10.2,5"].join("\n") + "\n",
    );
    const r = await readCsvBars(bad, { tickSize: 0, calendar: "24x7" });
    expect(r.rowsRead).toBe(8);
    // stored 4 (sorted) + high<low 1 + unparsable 1 + conflicting duplicate 1 + exact duplicate 1
    expect(r.bars.length).toBe(4);
    expect(r.reasons).toMatchObject({ high_below_low: 1, unparsable_row: 1, duplicate_conflict: 1 });
    expect(r.duplicates).toBe(1);
    expect(r.bars.length + r.quarantined + r.duplicates).toBe(r.rowsRead);
    expect(Array.from(r.bars.ts.subarray(0, 4))).toEqual([0, 2, 3, 4].map((m) => Date.UTC(2024, 0, 1, 0, m)));
    expect(r.timeframe).toBe("1m");
  });

  it("produces a report with metrics, trades, equity and monthly returns", async () => {
    const rep = await runConfiguredBacktest(base);
    expect(rep.data.bars).toBe(5000);
    expect(rep.fills).toBeGreaterThan(50);
    expect(rep.metrics.trades).toBe(rep.trades.length);
    expect(rep.equity.length).toBeGreaterThan(100);
    expect(rep.equity.at(-1)!.equity).toBe(rep.finalValue);
    expect(rep.monthly.length).toBeGreaterThan(0);
    expect(rep.data.rowsRead).toBe(5000);
    expect(JSON.parse(JSON.stringify(rep)).metrics.sharpe).toBe(rep.metrics.sharpe);
  });

  it("restricts to a date span and refuses one without data, naming the field", async () => {
    const from = Date.UTC(2020, 0, 1, 1);
    const to = Date.UTC(2020, 0, 1, 3);
    const p = await prepareBacktest({ ...base, from, to });
    expect(p.to - p.from).toBe(121);
    expect((await inputError({ ...base, from: Date.UTC(2030, 0, 1) })).field).toBe("from");
    expect((await inputError({ ...base, from: to, to: from })).field).toBe("from");
  });

  it("refuses bad input with a message naming the field", async () => {
    expect((await inputError({ ...base, strategy: "nope" })).field).toBe("strategy");
    expect((await inputError({ ...base, params: { fast: 30, slow: 10 } })).message).toMatch(/fast \(30\) must be less than slow \(10\)/);
    expect((await inputError({ ...base, params: { speed: 3 } })).field).toBe("params.speed");
    expect((await inputError({ ...base, size: 0 })).field).toBe("size");
    expect((await inputError({ ...base, cash: -1 })).field).toBe("cash");
    expect((await inputError({ ...base, data: { kind: "csv", path: join(dir, "missing.csv") } })).field).toBe("data");
    expect((await inputError({ ...base, instrument: "ZZZ" })).field).toBe("instrument");
    expect((await inputError({ ...base, data: { kind: "csv", path: csv, timeZone: "Mars/Base" } })).field).toBe("data.timeZone");
  });

  describe("model:<id> strategies", () => {
    const modelCfg = { data: { kind: "csv", path: csv }, strategy: "model:m1", cash: 1_000_000, commission: { kind: "per_fill", amount: 1 }, instrument: "unit" };
    function fakeModels() {
      const log = { resolved: [] as string[], disposed: 0, prepared: [] as { bars: number; span: { from: number; to: number }; barMs: number; instrument: string }[], decisions: [] as number[] };
      const model: ModelResolver = async (id) => {
        log.resolved.push(id);
        if (id !== "m1") throw new Error(`no registered model '${id}'`);
        return {
          id,
          name: "Fake model",
          prepare: (bars, market, span) => {
            log.prepared.push({ bars: bars.length, span, barMs: market.barMs, instrument: market.instrument.symbol });
            // "the policy": long one unit from the range start
            return (): Strategy => ({
              name: "fake",
              onBar: (ctx) => {
                const t = span.from + ctx.data.count - 1;
                log.decisions.push(t);
                if (ctx.position.qty === 0) ctx.exec.submit({ side: "buy", qty: 1, type: "market" });
              },
            });
          },
          dispose: async () => {
            log.disposed++;
          },
        };
      };
      return { log, deps: { model } as RunnerDeps };
    }
    async function fieldError(cfg: unknown, deps: RunnerDeps): Promise<BacktestInputError> {
      try {
        await prepareBacktest(cfg, deps);
      } catch (e) {
        if (e instanceof BacktestInputError) return e;
        throw e;
      }
      throw new Error("no error");
    }

    it("runs through the model resolver: the whole loaded series for features, decisions from the range start, the model's name and id in the report", async () => {
      const { log, deps } = fakeModels();
      const from = Date.UTC(2020, 0, 1, 1);
      const rep = await runConfiguredBacktest({ ...modelCfg, from }, deps);
      expect(log.resolved).toEqual(["m1"]);
      expect(rep.strategy).toEqual({ id: "model:m1", name: "Fake model", params: {} });
      expect(log.prepared).toEqual([{ bars: 5000, span: { from: 60, to: 5000 }, barMs: 60_000, instrument: "UNIT" }]);
      expect(log.decisions[0]).toBe(60);
      expect(rep.data.bars).toBe(4940);
      expect(rep.fills).toBe(1);
      expect(log.disposed).toBe(1);
    });

    it("refuses parameters, a size, an unknown model and a missing resolver with field errors, releasing the model", async () => {
      const { log, deps } = fakeModels();
      const unknownParam = await fieldError({ ...modelCfg, params: { fast: 3 } }, deps);
      expect(unknownParam.field).toBe("params.fast");
      expect(unknownParam.message).toMatch(/unknown parameter 'fast' for strategy model:m1/);
      expect((await fieldError({ ...modelCfg, size: 2 }, deps)).field).toBe("size");
      const missing = await fieldError({ ...modelCfg, strategy: "model:nope" }, deps);
      expect(missing.field).toBe("strategy");
      expect(missing.message).toMatch(/no registered model 'nope'/);
      expect((await fieldError({ ...modelCfg, strategy: "model:" }, deps)).field).toBe("strategy");
      expect((await fieldError(modelCfg, {})).message).toMatch(/model strategies need the database/);
      // resolved, then the data fails: the model is released
      expect((await fieldError({ ...modelCfg, data: { kind: "csv", path: join(dir, "missing.csv") } }, deps)).field).toBe("data");
      expect(log.disposed).toBe(1);
      const p = await prepareBacktest(modelCfg, deps);
      expect(p.release).toBeTypeOf("function");
      await p.release!();
      expect(log.disposed).toBe(2);
      expect((await prepareBacktest(base)).release).toBeUndefined();
    });
  });
});

describe("backtest CLI", () => {
  it("prints one JSON object on the last line with fills, finalValue and every metric", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "server/cli/backtest.ts", "--data", csv, "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--size", "100", "--fee-per-fill", "1", "--cash", "1000000", "--instrument", "unit", "--no-save", "--json"], { cwd: resolve(__dirname, "../.."), env: { ...process.env, DATA_DIR: dir } });
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!);
    const direct = await runConfiguredBacktest(base);
    expect(last.fills).toBe(direct.fills);
    expect(last.finalValue).toBe(Math.round(direct.finalValue * 100) / 100);
    for (const k of ["totalReturn", "annualizedReturn", "volatility", "sharpe", "sortino", "calmar", "maxDrawdownPct", "maxDrawdown", "maxDrawdownDuration", "profitFactor", "expectancy", "winRate", "avgWin", "avgLoss", "payoffRatio", "exposure", "trades", "longestLosingStreak"]) {
      expect(last, k).toHaveProperty(k);
    }
  });

  it("refuses a bad parameter with exit code 2 and names it", async () => {
    const err = await run(process.execPath, ["--import", "tsx", "server/cli/backtest.ts", "--data", csv, "--strategy", "sma-cross", "--param", "fast=50", "--param", "slow=30", "--no-save", "--json"], { cwd: resolve(__dirname, "../.."), env: { ...process.env, DATA_DIR: dir } }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/params\.fast: fast \(50\) must be less than slow \(30\)/);
  });
});

// The published backtrader reference (../shared/bench/README.md): SMA(10)/SMA(30) crossover on the
// bars of gen_ohlcv.mjs (seed 42): 38,858 fills / 963,280.08 on 1M bars, 3,835 / 996,307.44 on the first 100k.
const sharedData = resolve(process.cwd(), "..", "shared", "data");
describe.skipIf(!existsSync(SHARED_GEN))("parity with the published backtrader figures", () => {
  it("matches fills and final value on the reference bars", async () => {
    const { writeBenchCsv } = await import("../bench/gen");
    const full = join(dir, "ref.csv");
    writeBenchCsv(full, 1_000_000, 42);
    const lines = readFileSync(full, "utf8").split("\n");
    const first = join(dir, "ref100k.csv");
    writeFileSync(first, lines.slice(0, 100_001).join("\n") + "\n");
    const cfg = (path: string) => ({ ...base, data: { kind: "csv", path } });
    const a = await runConfiguredBacktest(cfg(first));
    expect([a.fills, Math.round(a.finalValue * 100) / 100]).toEqual([3835, 996307.44]);
    const b = await runConfiguredBacktest(cfg(full));
    expect([b.fills, Math.round(b.finalValue * 100) / 100]).toEqual([38858, 963280.08]);
  }, 120_000);
});
if (!existsSync(SHARED_GEN)) console.log(`[notice] ${SHARED_GEN} not found: backtrader parity on the reference bars skipped`);

describe.skipIf(!existsSync(sharedData))("real files in ../shared/data", () => {
  it("every bar file backtests with every row accounted for", async () => {
    const files = readdirSync(sharedData).filter((f) => /\.csv(\.gz)?$/.test(f) && !/quote|trade|tick/i.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = await readCsvBars(join(sharedData, f), { tickSize: 0, calendar: "24x7", timeZone: /nq/i.test(f) ? "America/New_York" : "UTC" });
      expect(r.bars.length + r.quarantined + r.duplicates, f).toBe(r.rowsRead);
      const rep = await runConfiguredBacktest({ ...base, data: { kind: "csv", path: join(sharedData, f), timeZone: /nq/i.test(f) ? "America/New_York" : "UTC" }, size: 1 });
      expect(rep.data.bars, f).toBeGreaterThan(0);
    }
  }, 300_000);
});
if (!existsSync(sharedData)) console.log(`[notice] ${sharedData} not found: real-file backtests skipped`);
