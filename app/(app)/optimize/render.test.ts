/**
 * Server-side renders of the result view (no browser) on real optimisation
 * results: every section a method has is there with its test id, the figures
 * are the stored ones, and nothing throws or prints NaN / undefined, also for
 * a result stored with parts missing.
 */
import { rmSync } from "node:fs";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fmtNum } from "@/app/(app)/backtests/report-model";
import { runOptimization } from "@/engine/optimize/run";
import { randomWalkFixture } from "@/engine/optimize/test-data";
import { ResultBody } from "./[id]/result-body";
import { type OptimizationView, type StoredResult, fmtObjective, toOptimizationView } from "./model";

let dir: string | undefined;
const views: Record<string, OptimizationView> = {};

function row(id: string, job: Record<string, unknown>, result: unknown, status = "done"): Record<string, unknown> {
  return { id, kind: job.kind, status, config: job, progress: 1, error: null, createdAt: "2024-05-01T10:00:00.000Z", finishedAt: "2024-05-01T10:00:05.000Z", result: JSON.parse(JSON.stringify(result)) };
}

function render(v: OptimizationView): string {
  return renderToStaticMarkup(createElement(ResultBody, { view: v, result: v.result as StoredResult, currency: "USD", launcher: { run: () => {}, pending: null, error: null } }));
}

const count = (html: string, s: string) => html.split(s).length - 1;

beforeAll(async () => {
  const f = await randomWalkFixture(3000, 5, { params: { mode: "long_short" } });
  dir = f.dir;
  // stored as the engine stores a UI job: the backtest as the engine's config
  const backtest = { ...f.backtest, data: { kind: "series", symbol: "TEST", timeframe: "1m" } };
  const run = async (id: string, job: Record<string, unknown>) => {
    const result = await runOptimization({ ...job, backtest: f.backtest, workers: 0 });
    views[id] = toOptimizationView(row(id, { ...job, backtest }, result));
  };
  await run("grid", { kind: "grid", space: { fast: { min: 2, max: 20, step: 3 }, slow: [10, 20, 40] } });
  await run("grid3", { kind: "grid", space: { fast: [3, 5], slow: [10, 20], mode: ["long_only", "long_short"] }, objective: "maxDrawdownPct" });
  await run("genetic", { kind: "genetic", space: { fast: { min: 2, max: 30 }, slow: { min: 10, max: 80, step: 5 } }, genetic: { population: 10, generations: 3, seed: 2 } });
  await run("wf", { kind: "walk_forward", space: { fast: [3, 5, 8], slow: [20, 40] }, walkForward: { folds: 3 } });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function clean(html: string) {
  expect(html).not.toMatch(/NaN|undefined|\[object Object\]/);
}

describe("result view", () => {
  it("grid: summary, best, heatmap with the stored values, overfitting, trials best first", () => {
    const v = views.grid!;
    const r = v.result!;
    const html = render(v);
    clean(html);
    for (const id of ["optimize-summary", "best-params", "heatmap", "overfit-stats", "trials-table"]) expect(html).toContain(`data-testid="${id}"`);
    expect(html).not.toContain('data-testid="pareto-chart"');
    expect(html).not.toContain('data-testid="walk-forward-folds"');
    // the heatmap: one cell per (x, y) of the stored heatmap, each holding the stored value
    const h = r.heatmap!;
    expect(count(html, 'role="gridcell"')).toBe(h.x.values.length * (h.y?.values.length ?? 1));
    const values = [...html.matchAll(/role="gridcell"[^>]*data-value="([^"]*)"/g)].map((m) => (m[1] === "" ? null : Number(m[1])));
    expect(values.sort()).toEqual(h.z.flat().sort());
    // the best's objective and the DSR as stored
    expect(html).toContain(fmtObjective(r.objective, r.best!.objective));
    expect(html).toContain(fmtNum(r.overfit.deflatedSharpe!.dsr, 3));
    // default sort: best first (ties by id, as the engine picks the best)
    const firstRow = /data-testid="trial-row-(\d+)"/.exec(html);
    expect(Number(firstRow![1])).toBe(r.best!.id);
    expect(count(html, 'data-testid="trial-row-')).toBe(Math.min(50, r.trials.length));
    expect(html).toContain("in-sample");
  });

  it("grid with three parameters offers axis choices", () => {
    const html = render(views.grid3!);
    clean(html);
    expect(html).toContain('data-testid="heatmap-x"');
    expect(html).toContain('data-testid="heatmap-y"');
  });

  it("genetic: Pareto chart with the stored front, generations", () => {
    const v = views.genetic!;
    const r = v.result!;
    const html = render(v);
    clean(html);
    expect(html).toContain(`data-testid="pareto-chart" data-points="${r.trials.filter((t) => t.ok).length}" data-front="${r.pareto!.length}"`);
    expect(count(html, "data-front-id=")).toBe(r.pareto!.length);
    expect(html).toContain('data-testid="pareto-best"');
    expect(html).toContain('data-testid="generations-table"');
    expect(html).not.toContain('data-testid="heatmap"');
    expect(html).toContain('data-testid="overfit-stats"');
  });

  it("walk-forward: folds side by side, stitched equity, out-of-sample metrics, labelled", () => {
    const v = views.wf!;
    const r = v.result!;
    const html = render(v);
    clean(html);
    for (const id of ["walk-forward-folds", "oos-equity", "oos-metrics", "overfit-stats", "trials-table", "sharpe-efficiency"]) expect(html).toContain(`data-testid="${id}"`);
    expect(count(html, 'data-testid="fold-row-')).toBe(r.walkForward!.folds.length);
    expect(html).toContain("In-sample (where the parameters were chosen)");
    expect(html).toContain("Out-of-sample (traded blind)");
    expect(html).toContain("out-of-sample");
    expect(html).not.toContain('data-testid="best-params"');
    const m = r.walkForward!.outOfSample.metrics as unknown as Record<string, number>;
    expect(html).toContain(fmtNum(m.sharpe, 3));
  });

  it("a result stored with parts missing still renders", () => {
    for (const raw of [{ kind: "grid", trials: [] }, { kind: "genetic", trials: [{ id: 0, params: { fast: 3 }, ok: false, metrics: null, objective: null, error: "boom" }] }, { kind: "walk_forward", trials: [], walkForward: { folds: [], outOfSample: { equity: [] } } }]) {
      const v = toOptimizationView(row("x", { kind: raw.kind }, raw, "cancelled"));
      expect(v.result).not.toBeNull();
      const html = render(v);
      clean(html);
      expect(html).toContain('data-testid="overfit-stats"');
    }
  });
});
