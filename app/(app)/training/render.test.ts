/**
 * Server-side renders (no browser) of the training pages' presentational
 * parts on real training results: the report with its test ids and the
 * stored figures (every trading figure under an in-sample or out-of-sample
 * label), the network picture and the curve charts; nothing prints NaN or
 * undefined, also for reports with parts missing.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it } from "vitest";
import { fmtPct } from "@/app/(app)/backtests/report-model";
import { BUILTIN_INSTRUMENTS } from "@/engine/data/instruments";
import { syntheticBars } from "@/engine/rl/env/testdata";
import { networkView, networkViewOf } from "@/engine/rl/train/network";
import { TrainingSession } from "@/engine/rl/train/session";
import { CurveCharts } from "./curve-charts";
import { type CurvePoint, type NetworkView, type Summary, actionLabels, asCurves, asReport, chartsFor, fmtCount, fmtValue, inputLabels, runColor } from "./model";
import { AttentionMaps, NetworkPicture } from "./network-view";
import { TrainingSummary } from "./summary";

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const deps = { loadBars: async () => ({ bars: syntheticBars(3000, { seed: 3, start: 40_000, tick: 0.1 }), instrument: btc }) };
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const count = (html: string, s: string) => html.split(s).length - 1;
const clean = (html: string) => {
  expect(html).not.toMatch(/NaN|undefined|Infinity|\[object/);
};
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

let cp: { summary: Summary; curves: CurvePoint[]; view: NetworkView };
let tr: { summary: Summary; curves: CurvePoint[] };

beforeAll(async () => {
  const a = await TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 4096, seed: 3 });
  while (!a.done) a.step();
  const o = a.policyOnnx();
  cp = { summary: asReport(json({ ...a.evaluate(), modelId: "m-cp" }))!, curves: asCurves(json(a.curves)), view: json(networkView(o.bytes, o.spec, [0, 0.5, -0.1, 0.2])) };
  const s = await TrainingSession.create({ env: "trading", algo: "dqn", steps: 2000, seed: 1, dqn: { learningStarts: 200 }, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 8, episodeLength: 256, contractSize: 0.01 } }, deps);
  while (!s.done) s.step();
  tr = { summary: asReport(json({ ...s.evaluate(), modelId: "m-tr" }))!, curves: asCurves(json(s.curves)) };
}, 120_000);

describe("the report", () => {
  it("CartPole: steps, speed and the evaluation return, no trading sections", () => {
    const html = renderToStaticMarkup(createElement(TrainingSummary, { summary: cp.summary }));
    clean(html);
    expect(html).toContain('data-testid="training-summary"');
    expect(section(html, "summary-steps")).toContain(fmtCount(cp.summary.steps));
    expect(section(html, "summary-sps")).toContain(fmtCount(cp.summary.stepsPerSecond));
    expect(section(html, "summary-evaluation")).toContain(fmtValue(cp.summary.evaluation!.meanReturn));
    expect(html).not.toContain('data-testid="in-sample"');
    expect(html).not.toContain('data-testid="baselines"');
  });

  it("trading: spans, look-ahead, in-sample vs out-of-sample side by side, baselines, each labelled", () => {
    const t = tr.summary.trading!;
    const html = renderToStaticMarkup(createElement(TrainingSummary, { summary: tr.summary, currency: "USDT" }));
    clean(html);
    const spans = section(html, "summary-spans");
    expect(spans).toContain("2024-01-01 01:30"); // the stored train span start
    expect(spans).toContain(fmtCount(t.split.test.to - t.split.test.from));
    expect(section(html, "summary-lookahead")).toContain("passed");
    const ins = section(html, "in-sample");
    const oos = section(html, "out-of-sample");
    expect(ins).toContain("In-sample");
    expect(oos).toContain("Out-of-sample");
    expect(ins).toContain(fmtPct(t.inSample.metrics.totalReturn));
    expect(oos).toContain(fmtPct(t.outOfSample.metrics.totalReturn));
    expect(ins).toContain(String(t.inSample.metrics.trades));
    expect(oos).toContain(t.outOfSample.metrics.sharpe.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    expect(count(ins, "data-metric=")).toBe(count(oos, "data-metric="));
    expect(ins).toContain('aria-label="Sharpe ratio, in-sample"');
    expect(oos).toContain('aria-label="Sharpe ratio, out-of-sample"');
    const base = section(html, "baselines");
    for (const name of ["Flat (no position)", "Buy and hold", "SMA crossover 10/30", "Trained policy"]) expect(count(base, name)).toBe(2);
    expect(count(base, 'data-sample="in-sample"')).toBe(4);
    expect(count(base, 'data-sample="out-of-sample"')).toBe(4);
    const bh = t.baselines.find((b) => b.name === "buy-and-hold" && b.label === "out-of-sample")!;
    expect(base).toContain(fmtPct(bh.metrics.totalReturn));
  });

  it("a report with parts missing renders dashes, not errors", () => {
    const partial = asReport({ env: "trading", algo: "ppo", seed: 1, steps: 10, trading: { inSample: { label: "in-sample", metrics: {} }, outOfSample: { label: "out-of-sample", metrics: { sharpe: null } } } })!;
    const html = renderToStaticMarkup(createElement(TrainingSummary, { summary: partial }));
    clean(html);
    expect(section(html, "in-sample")).toContain("—");
    expect(section(html, "summary-lookahead")).toContain("failed");
  });
});

describe("the network picture", () => {
  it("draws every CartPole neuron, labels inputs and actions and rings the chosen one", () => {
    const html = renderToStaticMarkup(createElement(NetworkPicture, { view: cp.view, actionNames: actionLabels("cartpole", null, 2), inputNames: inputLabels("cartpole", 4), threshold: 0.2 }));
    clean(html);
    expect(count(html, "<circle")).toBe(4 + 64 + 64 + 2 + 1); // + the ring
    expect(html).toContain('data-testid="network-action-node"');
    const chosen = ["push left", "push right"][cp.view.action]!;
    expect(section(html, "network-action")).toContain(chosen);
    expect(html).toContain(`data-action="${cp.view.action}"`);
    expect(html).toContain("θ̇");
    expect(count(html, "<line")).toBeGreaterThan(0);
    expect(html).toContain(`width="${84 * 2 + 110 * 3}"`);
  });
});

describe("walk-forward folds", () => {
  it("one row per fold with its spans and out-of-sample figures, and the spread across folds", async () => {
    const s = await TrainingSession.create(
      { env: "trading", algo: "ppo", steps: 512, seed: 2, numEnvs: 2, ppo: { hidden: [8], numSteps: 64 }, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 5, episodeLength: 64, contractSize: 0.01, walkForward: { folds: 2 } } },
      deps,
    );
    while (!s.done) s.step();
    const summary = asReport(json({ ...s.evaluate(), modelId: "m-wf" }))!;
    const html = renderToStaticMarkup(createElement(TrainingSummary, { summary, currency: "USDT" }));
    clean(html);
    const wf = section(html, "walk-forward");
    expect(count(wf, 'data-sample="out-of-sample"')).toBe(2);
    const f0 = summary.trading!.walkForward!.folds[0]!;
    expect(section(html, "fold-0")).toContain(fmtPct(f0.metrics.totalReturn));
    expect(section(html, "walk-forward-summary")).toContain("of 2 folds");
  }, 60_000);
});

describe("the attention map", () => {
  it("an attention policy's heads as window x window squares, one cell per (query, key) with its weight", async () => {
    const s = await TrainingSession.create(
      { env: "trading", algo: "ppo", steps: 512, seed: 2, numEnvs: 2, ppo: { network: "attention", attention: { dModel: 8, heads: 2 }, hidden: [8], numSteps: 64 }, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 5, episodeLength: 64, contractSize: 0.01 } },
      deps,
    );
    while (!s.done) s.step();
    const o = s.policyOnnx();
    const view = json(await networkViewOf(o.bytes, o.spec, Array.from(s.env.obs.subarray(0, s.env.obsSize))));
    const html = renderToStaticMarkup(createElement(AttentionMaps, { attention: view.attention! }));
    clean(html);
    expect(count(html, "<rect")).toBe(2 * 5 * 5);
    expect(html).toContain('data-testid="attention-head-1"');
    expect(html).toContain(`t-4 attends to t with weight ${view.attention!.maps[0]![0]![4]!.toFixed(3)}`);
    const pic = renderToStaticMarkup(createElement(NetworkPicture, { view, actionNames: actionLabels("trading", null, 3), inputNames: null, inputTitle: "encoding" }));
    clean(pic);
    expect(pic).toContain("encoding 10");
  }, 60_000);
});

describe("the curve charts", () => {
  it("one small multiple per quantity, each run its own colour", () => {
    const html = renderToStaticMarkup(
      createElement(CurveCharts, {
        charts: chartsFor(["ppo", "dqn"]),
        runs: [
          { id: "a", label: "PPO CartPole", color: runColor(0), points: cp.curves },
          { id: "b", label: "DQN trading", color: runColor(1), points: tr.curves },
        ],
        xMax: 4096,
      }),
    );
    clean(html);
    expect(count(html, "<figure")).toBe(9);
    expect(html).toContain(`stroke="${runColor(0)}"`);
    expect(html).toContain(`stroke="${runColor(1)}"`);
    // PPO-only charts carry only run a's colour
    const entropy = html.slice(html.indexOf('data-chart="entropy"'), html.indexOf('data-chart="approxKl"'));
    expect(entropy).toContain(`stroke="${runColor(0)}"`);
    expect(entropy).not.toContain(`stroke="${runColor(1)}"`);
    const td = html.slice(html.indexOf('data-chart="tdLoss"'), html.indexOf('data-chart="epsilon"'));
    expect(td).toContain(`stroke="${runColor(1)}"`);
    expect(td).not.toContain(`stroke="${runColor(0)}"`);
    // the latest values are read out
    expect(entropy).toContain(fmtValue(cp.curves.at(-1)!.entropy));
  });

  it("an empty run says so instead of drawing", () => {
    const html = renderToStaticMarkup(createElement(CurveCharts, { charts: chartsFor(["ppo"]), runs: [{ id: "a", label: "a", color: runColor(0), points: [] }], xMax: 100 }));
    clean(html);
    expect(count(html, "no values yet")).toBe(chartsFor(["ppo"]).length);
  });
});
