/**
 * Server-side renders of the whole /training and /training/[id] views (no
 * browser): the tRPC cache is filled with rows built from real training runs
 * the way the store returns them, next/navigation is stubbed, and the HTML
 * must carry the page's test ids and the stored figures. Effects (the event
 * stream, polling) do not run in a server render.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { type ReactElement, createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { trpc } from "@/app/_components/trpc";
import { BUILTIN_INSTRUMENTS } from "@/engine/data/instruments";
import { syntheticBars } from "@/engine/rl/env/testdata";
import { TrainingSession } from "@/engine/rl/train/session";
import { fmtCount, fmtProgress, fmtValue, modelKeyMetric } from "./model";
import type { ModelListRow, RunDetail } from "./types";

vi.mock("next/navigation", () => ({ useRouter: () => ({ push: () => {}, replace: () => {}, prefetch: () => {} }), usePathname: () => "/training" }));

const { TrainingView } = await import("./training-view");
const { RunView } = await import("./[id]/run-view");

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const deps = { loadBars: async () => ({ bars: syntheticBars(3000, { seed: 3, start: 40_000, tick: 0.1 }), instrument: btc }) };
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const T0 = "2024-05-01T10:00:00.000Z";

let runs: RunDetail[] = [];
let models: ModelListRow[] = [];

function runRow(id: string, s: TrainingSession, config: Record<string, unknown>, status: string, summary: Record<string, unknown> | null, error: string | null = null): RunDetail {
  return json({
    id,
    name: `${String(config.algo).toUpperCase()} ${config.env} seed ${String(config.seed)}`,
    status,
    env: String(config.env),
    algo: String(config.algo),
    seed: Number(config.seed),
    config,
    steps: s.globalStep,
    totalSteps: Number(config.steps),
    summary,
    error,
    createdById: null,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: status === "running" ? null : T0,
    hasCheckpoint: true,
    curves: s.curves,
  }) as RunDetail;
}

beforeAll(async () => {
  const cpCfg = { env: "cartpole", algo: "ppo", steps: 4096, seed: 3 };
  const a = await TrainingSession.create(cpCfg);
  while (!a.done) a.step();
  const cpReport = a.evaluate();
  const half = { env: "cartpole", algo: "ppo", steps: 8192, seed: 4 };
  const b = await TrainingSession.create(half);
  for (let k = 0; k < 5; k++) b.step();
  const trCfg = { env: "trading", algo: "dqn", steps: 2000, seed: 1, dqn: { learningStarts: 200 }, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 8, episodeLength: 256, contractSize: 0.01 } };
  const c = await TrainingSession.create(trCfg, deps);
  while (!c.done) c.step();
  const trReport = c.evaluate();
  runs = [
    runRow("run-cp", a, cpCfg, "done", { ...cpReport, modelId: "model-cp" }),
    runRow("run-half", b, half, "running", null),
    runRow("run-tr", c, trCfg, "done", { ...trReport, modelId: "model-tr" }),
    runRow("run-bad", b, { ...half, seed: 9 }, "failed", null, FAILURE),
  ];
  const model = (id: string, runId: string, s: TrainingSession, cfg: Record<string, unknown>, report: unknown): ModelListRow =>
    json({
      id,
      name: runs.find((r) => r.id === runId)!.name,
      runId,
      algo: String(cfg.algo),
      env: String(cfg.env),
      hyperparams: { network: s.policyOnnx().spec, steps: cfg.steps },
      featureSpec: cfg.env === "trading" ? { window: 8, actions: "target" } : { obs: "CartPole-v1 state" },
      dataSpans: (report as { trading?: { spans?: unknown } }).trading?.spans ?? null,
      seed: Number(cfg.seed),
      metrics: report,
      codeVersion: "abc123def456",
      onnxBytes: s.policyOnnx().bytes.length,
      createdById: null,
      createdAt: T0,
    }) as ModelListRow;
  models = [model("model-cp", "run-cp", a, cpCfg, cpReport), model("model-tr", "run-tr", c, trCfg, trReport)];
}, 120_000);

function render(el: ReactElement, seed: (qc: QueryClient) => void): string {
  const qc = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  seed(qc);
  const client = trpc.createClient({ links: [() => () => ({ subscribe: () => ({ unsubscribe: () => {} }) }) as never] });
  return renderToStaticMarkup(createElement(trpc.Provider, { client, queryClient: qc, children: createElement(QueryClientProvider, { client: qc }, el) }));
}

function seedCommon(qc: QueryClient) {
  qc.setQueryData(getQueryKey(trpc.users.me, undefined, "query"), { id: "u1", email: "t@example.com", role: "trader" });
  qc.setQueryData(getQueryKey(trpc.market.instruments, undefined, "query"), []);
  qc.setQueryData(
    getQueryKey(trpc.training.runs, undefined, "query"),
    runs.map(({ curves: _c, ...r }) => r),
  );
  qc.setQueryData(getQueryKey(trpc.training.models, undefined, "query"), models);
  for (const r of runs) qc.setQueryData(getQueryKey(trpc.training.run, { id: r.id }, "query"), r);
}

const FAILURE = "reward of environment 0 is NaN at environment step 2560; training stopped";
/** Text around the first NaN / undefined / [object printed (the stored failure message itself aside); "" when none. */
const bad = (html: string) => {
  const h = html.split(FAILURE).join("");
  const m = /NaN|undefined|\[object/.exec(h);
  return m ? h.slice(Math.max(0, m.index - 300), m.index + 60) : "";
};
const section = (html: string, testId: string) => {
  const i = html.indexOf(`data-testid="${testId}"`);
  expect(i, testId).toBeGreaterThan(-1);
  return html.slice(i);
};

describe("/training", () => {
  it("renders the form, the runs with their state, the registry and the network view", () => {
    const html = render(createElement(TrainingView, { initialModel: null }), seedCommon);
    expect(bad(html)).toBe("");
    for (const id of ["training-form", "training-runs", "model-registry", "network-view", "training-submit"]) expect(html).toContain(`data-testid="${id}"`);
    for (const r of runs) expect(html).toContain(`data-testid="run-row-${r.id}"`);
    const half = runs[1]!;
    expect(section(html, "run-row-run-half")).toMatch(/^[^>]*data-status="running"/);
    expect(html).toContain(fmtProgress(half.steps, half.totalSteps));
    expect(html).toContain('role="progressbar"');
    expect(html).toContain('data-testid="stop-run-half"');
    expect(html).toContain('data-testid="reset-run-bad"');
    expect(html).not.toContain('data-testid="resume-run-bad"');
    expect(html).toContain(`error: ${FAILURE}`);
    // done runs show their stored mean return; the registry its key metric
    expect(html).toContain(fmtValue((runs[0]!.summary as { meanReturn100: number }).meanReturn100));
    for (const m of models) {
      expect(html).toContain(`data-testid="model-row-${m.id}"`);
      expect(html).toContain(`href="/api/models/${m.id}/onnx"`);
      expect(html).toContain(modelKeyMetric(m.metrics)!.text.replace("·", "·"));
    }
    expect(html).toContain('data-testid="model-delete-model-cp"');
    // defaults are shown in the form
    expect(html).toContain('value="0.00025"');
    expect(html).toContain("default 0.99");
    expect(html).toContain('data-testid="ppo-batch"');
  });
});

describe("/training/[id]", () => {
  it("a finished CartPole run: curves, the report and the model link", () => {
    const html = render(createElement(RunView, { id: "run-cp", initialCompare: [] }), seedCommon);
    expect(bad(html)).toBe("");
    expect(section(html, "training-run")).toMatch(/^[^>]*data-status="done"/);
    expect(html).toContain('data-testid="curves"');
    expect(html).toContain('data-testid="compare"');
    expect(html).toContain('data-chart="entropy"');
    expect(html).not.toContain('data-chart="tdLoss"');
    const s = section(html, "training-summary");
    expect(s).toContain(fmtCount(runs[0]!.steps));
    expect(html).toContain('data-testid="summary-evaluation"');
    expect(html).toContain('href="/api/models/model-cp/onnx"');
    expect(html).not.toContain('data-testid="in-sample"');
  });

  it("a finished trading run: in-sample, out-of-sample and baselines", () => {
    const html = render(createElement(RunView, { id: "run-tr", initialCompare: [] }), seedCommon);
    expect(bad(html)).toBe("");
    for (const id of ["training-summary", "in-sample", "out-of-sample", "baselines", "summary-spans", "summary-lookahead"]) expect(html).toContain(`data-testid="${id}"`);
    expect(html).toContain('data-chart="tdLoss"');
    expect(html).toContain('data-chart="epsilon"');
  });

  it("a failed run shows its error prominently; compared runs overlay in their own colours with a legend", () => {
    const html = render(createElement(RunView, { id: "run-bad", initialCompare: ["run-cp", "run-tr"] }), seedCommon);
    expect(bad(html)).toBe("");
    expect(section(html, "training-run")).toMatch(/^[^>]*data-status="failed"/);
    expect(section(html, "training-error")).toContain(FAILURE);
    expect(html).toContain('data-testid="curves-legend"');
    expect(html).toContain('data-testid="compare-table"');
    expect(html).toContain("#3fd08a");
    expect(html).toContain("#5aa9e6");
    expect(html).toContain("#e5b94a");
    // PPO and DQN compared: both algorithms' charts
    expect(html).toContain('data-chart="tdLoss"');
    expect(html).toContain('data-chart="entropy"');
    expect(html).toContain("Settings that differ");
    expect(html).not.toContain('data-testid="training-summary"');
  });

  it("an unknown run says so", () => {
    const html = render(createElement(RunView, { id: "nope", initialCompare: [] }), (qc) => {
      seedCommon(qc);
    });
    // not seeded: still loading in a server render (the query never resolves here)
    expect(html).toContain("Loading the training run");
  });
});
