/**
 * Server-side renders (no browser) of the tuning page's presentational parts
 * on real (tiny) searches: the result with its test ids, the Pareto chart
 * with the stored front highlighted, the trials table, every objective
 * labelled "validation"; the progress panel and the list; nothing prints
 * NaN or undefined, also while a search runs or with parts missing.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it } from "vitest";
import { fmtNum } from "@/app/(app)/backtests/report-model";
import { BUILTIN_INSTRUMENTS } from "@/engine/data/instruments";
import { syntheticBars } from "@/engine/rl/env/testdata";
import { type RlTuneResult, runRlTuning } from "@/engine/rl/tune/search";
import { type TuneJobView, asResult, parseTuneFrame, progressView, toJobView } from "./model";
import { AXIS_LABELS } from "./pareto-chart";
import { TuneProgress } from "./tune-progress";
import { TuneResult } from "./tune-result";
import { TuneRunsTable } from "./tune-runs";

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const deps = { loadBars: async () => ({ bars: syntheticBars(3000, { seed: 3, start: 40_000, tick: 0.1 }), instrument: btc }) };
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const count = (html: string, s: string) => html.split(s).length - 1;
const clean = (html: string) => expect(html).not.toMatch(/NaN|undefined|Infinity|\[object/);

/** The HTML of the element with this data-testid (up to its matching close tag). */
function section(html: string, testId: string): string {
  const start = html.indexOf(`data-testid="${testId}"`);
  if (start < 0) throw new Error(`no ${testId}`);
  const open = html.lastIndexOf("<", start);
  const tag = /^<(\w+)/.exec(html.slice(open))![1]!;
  let depth = 0;
  const re = new RegExp(`<${tag}[\\s>]|</${tag}>`, "g");
  re.lastIndex = open;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[0].startsWith("</") ? -1 : 1;
    if (depth === 0) return html.slice(open, m.index + m[0].length);
  }
  return html.slice(open);
}

const runs: Record<"cartpole" | "trading", { job: TuneJobView; rawJob: unknown; result: Omit<RlTuneResult, "state">; state: RlTuneResult["state"] }> = {} as never;

beforeAll(async () => {
  const store = async (key: "cartpole" | "trading", job: Record<string, unknown>) => {
    const r = await runRlTuning(job, deps);
    const { state, ...result } = json(r);
    runs[key] = { job: toJobView(state.job), rawJob: state.job, result, state };
  };
  await store("cartpole", { base: { env: "cartpole", algo: "ppo", steps: 1024, seed: 1 }, space: { ppo: { learningRate: { min: 1e-3, max: 3e-3, count: 3, scale: "log" }, entCoef: [0, 0.01] } }, population: 2, generations: 1, seed: 3, workers: 0 });
  // numSteps 512 x 4 environments > 1,024 steps: those trials fail (a failed row is shown too)
  await store("trading", {
    base: { env: "trading", algo: "ppo", steps: 1024, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 8, episodeLength: 256, contractSize: 0.01 } },
    space: { ppo: { learningRate: [1e-3, 3e-3, 1e-2], numSteps: [64, 128, 512] } },
    population: 4,
    generations: 1,
    seed: 5,
    workers: 0,
  });
}, 120_000);

describe("the result", () => {
  it("trading: the Pareto chart of validation drawdown against validation Sharpe, the front highlighted, every trial with its objectives", () => {
    const { job, result } = runs.trading;
    const view = asResult(result, job.env)!;
    const html = renderToStaticMarkup(createElement(TuneResult, { status: "done", job, view }));
    clean(html);
    expect(section(html, "tune-result")).toContain('data-status="done"');
    const chart = section(html, "tune-pareto");
    const ok = result.trials.filter((t) => t.status === "ok");
    expect(chart).toContain(`data-points="${ok.length}"`);
    expect(chart).toContain(`data-front="${result.pareto.length}"`);
    expect(count(chart, "data-front-id=")).toBe(result.pareto.length);
    for (const p of result.pareto) expect(chart).toContain(`data-front-id="${p.id}"`);
    expect(chart).toContain(AXIS_LABELS.trading.x);
    expect(chart).toContain(AXIS_LABELS.trading.y);
    expect(AXIS_LABELS.trading.x).toMatch(/validation/);
    expect(AXIS_LABELS.trading.y).toMatch(/validation/);
    const trials = section(html, "tune-trials");
    expect(count(trials, "data-trial-id=")).toBe(result.trials.length);
    expect(count(trials, 'data-front="true"')).toBe(result.pareto.length);
    expect(trials).toContain("Sharpe (validation)");
    expect(trials).toContain("Max DD (validation)");
    for (const name of ["Learning rate", "Rollout steps / env"]) expect(trials).toContain(name);
    for (const t of ok) expect(trials).toContain(fmtNum((t.objectives as { valSharpe: number }).valSharpe, 3));
    expect(result.failed).toBeGreaterThan(0);
    expect(trials).toContain("failed: ");
    expect(section(html, "tune-best")).toContain(`trial #${result.best!.id}`);
    expect(section(html, "tune-objectives")).toContain("valMaxDrawdown");
    expect(html).not.toMatch(/in-sample|out-of-sample/i);
  });

  it("CartPole: the evaluation return per trial (validation), the best highlighted", () => {
    const { job, result } = runs.cartpole;
    const view = asResult(result, job.env)!;
    const html = renderToStaticMarkup(createElement(TuneResult, { status: "done", job, view }));
    clean(html);
    const chart = section(html, "tune-pareto");
    expect(chart).toContain(`data-points="${result.trials.length}"`);
    expect(chart).toContain(`data-front="${result.pareto.length}"`);
    expect(chart).toContain(AXIS_LABELS.cartpole.y);
    expect(AXIS_LABELS.cartpole.y).toMatch(/validation/);
    const trials = section(html, "tune-trials");
    expect(trials).toContain("Eval return (validation)");
    for (const t of result.trials) expect(trials).toContain(fmtNum((t.objectives as { evalReturn: number }).evalReturn, 1));
    expect(section(html, "tune-generations")).toContain("Best return (validation)");
  });

  it("while running: the stored state's trials and the streamed front; nothing yet; a result with parts missing", () => {
    const { job, state } = runs.trading;
    const frame = JSON.stringify({ id: 1, ts: "2024-05-01T10:00:00.000Z", type: "tune.progress", data: { tuneId: "t", generation: 1, done: 5, total: 8, status: "running", error: null, front: [{ id: 99, hyperparams: { learningRate: 0.01, numSteps: 64 }, objectives: { label: "validation", valSharpe: 9, valMaxDrawdown: 0.01 } }] } });
    const ev = parseTuneFrame(frame)!;
    const view = progressView("trading", state.trials.slice(0, 3), state.generations.slice(0, 1), ev);
    const html = renderToStaticMarkup(createElement(TuneResult, { status: "running", job, view }));
    clean(html);
    expect(section(html, "tune-result")).toContain('data-source="progress"');
    expect(section(html, "tune-pareto")).toContain('data-front-id="99"'); // the streamed point dominates everything
    expect(section(html, "tune-trials")).toContain("running gen");
    const empty = renderToStaticMarkup(createElement(TuneResult, { status: "queued", job, view: null }));
    expect(empty).toContain('data-status="queued"');
    const partial = asResult({ trials: [{ id: 0, status: "ok", hyperparams: {}, objectives: { label: "validation", valSharpe: 1, valMaxDrawdown: 0.1 } }] }, "trading")!;
    clean(renderToStaticMarkup(createElement(TuneResult, { status: "stopped", job: toJobView(null), view: partial })));
  });
});

describe("progress and the list", () => {
  it("shows the streamed generation, counts and front; the stored row when there is no event", () => {
    const { job } = runs.trading;
    const row = { status: "running", generation: 0, done: 4, total: 8, error: null, updatedAt: "2024-05-01T09:59:00.000Z" };
    const ev = parseTuneFrame(JSON.stringify({ id: 3, ts: "2024-05-01T10:00:00.000Z", data: { tuneId: "t", generation: 1, done: 6, total: 8, status: "running", error: null, front: [{ id: 2, hyperparams: { learningRate: 0.001 }, objectives: { label: "validation", valSharpe: 0.8, valMaxDrawdown: 0.04 } }] } }))!;
    const html = renderToStaticMarkup(createElement(TuneProgress, { title: "PPO · BTC-PERP 1m", row, event: ev, job, stream: "online" }));
    clean(html);
    expect(section(html, "tune-progress")).toContain('data-status="running"');
    expect(section(html, "tune-progress-count")).toContain("6 / 8 individuals");
    expect(section(html, "tune-progress-generation")).toContain("generation 1 of 1");
    expect(section(html, "tune-progress-front")).toContain("Sharpe (validation) 0.800");
    const failed = renderToStaticMarkup(createElement(TuneProgress, { title: "x", row: { ...row, status: "failed", error: "base.trading.symbol: no stored bars" }, event: undefined, job, stream: "offline" }));
    clean(failed);
    expect(section(failed, "tune-error")).toContain("no stored bars");
  });

  it("lists searches with their job, progress and status (the live event over the stored row)", () => {
    const rows = [
      { id: "a", status: "running", generation: 0, done: 2, total: 8, error: null, job: runs.trading.rawJob, createdAt: "2024-05-01T10:00:00.000Z", finishedAt: null, updatedAt: "2024-05-01T10:00:00.000Z" },
      { id: "b", status: "failed", generation: -1, done: 0, total: 4, error: "base.trading.symbol: gone", job: runs.cartpole.rawJob, createdAt: "2024-05-01T09:00:00.000Z", finishedAt: "2024-05-01T09:00:01.000Z", updatedAt: "2024-05-01T09:00:01.000Z" },
    ];
    const ev = parseTuneFrame(JSON.stringify({ id: 3, ts: "2024-05-01T10:00:05.000Z", data: { tuneId: "a", generation: 1, done: 8, total: 8, status: "done", error: null, front: [] } }))!;
    const html = renderToStaticMarkup(createElement(TuneRunsTable, { rows, latest: new Map([["a", ev]]), selected: "a", onSelect: () => {} }));
    clean(html);
    expect(section(html, "tune-row-a")).toContain('data-status="done"');
    expect(section(html, "tune-row-a")).toContain("PPO · BTC-PERP 1m");
    expect(section(html, "tune-row-a")).toContain("8 / 8");
    expect(section(html, "tune-row-b")).toContain("PPO · CartPole");
    expect(html).toContain("error: base.trading.symbol: gone");
    expect(renderToStaticMarkup(createElement(TuneRunsTable, { rows: [], latest: new Map(), selected: null, onSelect: () => {} }))).toContain("No hyperparameter search");
  });
});
