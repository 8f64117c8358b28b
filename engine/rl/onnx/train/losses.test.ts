/**
 * Whole-loss gradients of the PPO and DQN graphs against central finite
 * differences (float64 graphs, h = 1e-6, |error| <= 1e-8 + 1e-6 |g| for every
 * parameter), against the plain-TypeScript path (engine/rl/nn, float64:
 * losses, metrics and gradients to 1e-10 relative), and the float32 graph's
 * gradient against the float64 one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { categoricalForward, duelingForward, huber, mse } from "../../nn/losses";
import { Mlp } from "../../nn/mlp";
import type { AttentionSpec } from "../attention";
import { rng } from "./gradcheck";
import { dqnLossGraph, type LossGraph, mseLossGraph, type PpoModel, ppoLossGraph } from "./losses";
import { attentionNet, emitNet, mlpNet, type NetSpec, netParamCount } from "./nets";
import { PlainPpo } from "./reference";
import { type FeedArray, type Feeds, GraphSession } from "./session";
import { buildGradGraph } from "./step";

const sessions: GraphSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.dispose();
});

async function open(g: Parameters<typeof GraphSession.create>[0], precision: "float32" | "float64" = "float64"): Promise<GraphSession> {
  const s = await GraphSession.create(g, { precision });
  sessions.push(s);
  return s;
}

const randn = (r: () => number) => {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
};
const randVec = (n: number, scale: number, seed: number) => {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => randn(r) * scale);
};

/**
 * Forward of a net on n rows (the inference graph; its weights are float32
 * initializers, so this is only accurate to ~1e-7: used to place the test
 * batches' ratios and value changes away from the clipping kinks).
 */
async function forward(net: NetSpec, params: Float64Array, obs: Float64Array): Promise<Float64Array> {
  const s = await open(emitNet(net, params), "float64");
  return s.run({ obs }).out as Float64Array;
}

/** Central differences of output `loss` w.r.t. every entry of feeds.params; compares with `analytic`. */
function fdCheck(s: GraphSession, feeds: Feeds, analytic: Float64Array, h = 1e-6, rtol = 1e-6, atol = 1e-8): { worst: number; maxRel: number; n: number } {
  const p = feeds.params as Float64Array;
  let worst = 0;
  let maxRel = 0;
  for (let j = 0; j < p.length; j++) {
    const o = p[j]!;
    p[j] = o + h;
    const fp = Number((s.run(feeds).loss as Float64Array)[0]);
    p[j] = o - h;
    const fm = Number((s.run(feeds).loss as Float64Array)[0]);
    p[j] = o;
    const num = (fp - fm) / (2 * h);
    const err = Math.abs(num - analytic[j]!);
    const scale = Math.max(Math.abs(num), Math.abs(analytic[j]!));
    worst = Math.max(worst, err / (atol + rtol * scale));
    if (scale > 1e-6) maxRel = Math.max(maxRel, err / scale);
  }
  if (process.env.GRADCHECK_SUMMARY) console.log(`${p.length} parameters: worst error / tolerance ${worst.toExponential(2)}, max relative error ${maxRel.toExponential(2)}`);
  return { worst, maxRel, n: p.length };
}

/**
 * A PPO minibatch whose probability ratios and value changes sit at chosen
 * values away from the clipping kinks (old log-probs / old values are set from
 * the current network's outputs).
 */
function ppoBatch(n: number, O: number, A: number, seed: number, logits: Float64Array, values: Float64Array) {
  const r = rng(seed);
  const obs = randVec(n * O, 1, seed + 1);
  const actions = Int32Array.from({ length: n }, () => Math.floor(r() * A));
  const ratios = [0.5, 0.9, 1.1, 1.5, 0.75, 1.3, 1.05, 0.95];
  const dvs = [-0.5, -0.1, 0.1, 0.5, 0.35, -0.3, 0.05];
  const logp = new Float64Array(n * A);
  const newLogp = new Float64Array(n);
  categoricalForward(logits, actions, logp, newLogp, null, n, A);
  const oldLogp = Float64Array.from({ length: n }, (_, k) => newLogp[k]! - Math.log(ratios[k % ratios.length]!));
  const oldValues = Float64Array.from({ length: n }, (_, k) => values[k]! - dvs[k % dvs.length]!);
  const advantages = randVec(n, 1, seed + 2);
  const returns = Float64Array.from({ length: n }, (_, k) => values[k]! + randn(r) * 0.7);
  return { obs, actions, oldLogp, advantages, returns, oldValues };
}

type Batch = ReturnType<typeof ppoBatch>;
const ppoFeeds = (params: Float64Array, b: Batch, hyper = { clip_coef: 0.2, ent_coef: 0.01, vf_coef: 0.5 }): Feeds => ({
  params,
  obs: b.obs,
  actions: b.actions,
  old_logp: b.oldLogp,
  advantages: b.advantages,
  returns: b.returns,
  old_values: b.oldValues,
  ...hyper,
});

describe("PPO loss graph (MLP actor and critic)", () => {
  const O = 5;
  const A = 3;
  const N = 16;
  const hidden = [16, 16];
  const model = { actor: mlpNet({ sizes: [O, ...hidden, A], activation: "tanh" }), critic: mlpNet({ sizes: [O, ...hidden, 1], activation: "tanh" }) } satisfies PpoModel;
  const Pa = netParamCount(model.actor);
  const P = Pa + netParamCount(model.critic);
  const params = randVec(P, 0.4, 7);

  async function setup() {
    const b0 = ppoBatch(N, O, A, 11, new Float64Array(N * A), new Float64Array(N));
    const logits = await forward(model.actor, params.subarray(0, Pa), b0.obs);
    const values = await forward(model.critic, params.subarray(Pa), b0.obs);
    return ppoBatch(N, O, A, 11, logits, values);
  }

  for (const [clipVloss, normAdv] of [
    [true, true],
    [false, false],
  ] as const) {
    it(`gradient of the whole loss w.r.t. all ${P} parameters matches finite differences (float64; clipVloss ${clipVloss}, normAdv ${normAdv})`, async () => {
      const b = await setup();
      const s = await open(buildGradGraph(ppoLossGraph(model, { numActions: A, clipVloss, normAdv })));
      const feeds = ppoFeeds(Float64Array.from(params), b);
      const out = s.run(feeds);
      expect(Number(out.clip_frac![0])).toBeGreaterThan(0); // some rows are clipped
      expect(Number(out.clip_frac![0])).toBeLessThan(1);
      const r = fdCheck(s, feeds, out.grad as Float64Array);
      expect(r.worst).toBeLessThanOrEqual(1);
    });
  }

  it("equals the plain-TypeScript path (engine/rl/nn) in loss, metrics and gradient (float64, 1e-10 relative)", async () => {
    const b = await setup();
    for (const clipVloss of [true, false]) {
      const s = await open(buildGradGraph(ppoLossGraph(model, { numActions: A, clipVloss })));
      const out = s.run(ppoFeeds(Float64Array.from(params), b));
      const ref = new PlainPpo({ obsSize: O, hidden, activation: "tanh", numActions: A, maxBatch: N, clipVloss });
      ref.params.set(params);
      const m = ref.lossAndGrad(b, N);
      for (const k of Object.keys(m)) expect(Math.abs(Number(out[k]![0]) - m[k]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(m[k]!)));
      const grad = out.grad as Float64Array;
      const gmax = Math.max(...Array.from(ref.grads, Math.abs));
      for (let j = 0; j < P; j++) expect(Math.abs(grad[j]! - ref.grads[j]!)).toBeLessThanOrEqual(1e-10 * gmax);
    }
  });

  it("float32 graph: loss within 1e-6 and gradient within 1e-4 of the float64 graph's (relative to the largest entry)", async () => {
    const b = await setup();
    const lg = () => buildGradGraph(ppoLossGraph(model, { numActions: A }));
    const s64 = await open(lg(), "float64");
    const s32 = await open(lg(), "float32");
    const o64 = s64.run(ppoFeeds(Float64Array.from(params), b));
    const f32 = (x: Float64Array) => Float32Array.from(x);
    const o32 = s32.run({ params: f32(params), obs: f32(b.obs), actions: b.actions, old_logp: f32(b.oldLogp), advantages: f32(b.advantages), returns: f32(b.returns), old_values: f32(b.oldValues), clip_coef: 0.2, ent_coef: 0.01, vf_coef: 0.5 });
    expect(Math.abs(Number(o32.loss![0]) - Number(o64.loss![0]))).toBeLessThanOrEqual(1e-6);
    const g64 = o64.grad as Float64Array;
    const g32 = o32.grad as Float32Array;
    const gmax = Math.max(...Array.from(g64, Math.abs));
    let worst = 0;
    for (let j = 0; j < P; j++) worst = Math.max(worst, Math.abs(g32[j]! - g64[j]!) / gmax);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it("the coefficients are inputs: ent_coef and vf_coef scale their terms; clip_coef moves the clip fraction", async () => {
    const b = await setup();
    const s = await open(buildGradGraph(ppoLossGraph(model, { numActions: A })));
    const base = s.run(ppoFeeds(Float64Array.from(params), b));
    const other = s.run(ppoFeeds(Float64Array.from(params), b, { clip_coef: 0.6, ent_coef: 0.1, vf_coef: 1 }));
    const pg = Number(other.pg_loss![0]);
    expect(Number(other.loss![0])).toBeCloseTo(pg - 0.1 * Number(other.entropy![0]) + Number(other.v_loss![0]), 12);
    expect(Number(other.clip_frac![0])).toBeLessThan(Number(base.clip_frac![0]));
  });
});

describe("PPO loss graph with the attention encoder", () => {
  const spec: AttentionSpec = { window: 4, features: 3, extra: 2, dModel: 8, heads: 2, head: [12, 4], activation: "tanh" };
  const A = 3;
  const N = 6;
  const O = spec.window * spec.features + spec.extra;

  it("shared torso (logits and value from one encoder): gradient w.r.t. all parameters matches finite differences (float64)", async () => {
    const net = attentionNet(spec);
    const P = netParamCount(net);
    const params = randVec(P, 0.3, 21);
    const s = await open(buildGradGraph(ppoLossGraph({ shared: net }, { numActions: A })));
    const b0 = ppoBatch(N, O, A, 23, new Float64Array(N * A), new Float64Array(N));
    const outAll = await forward(net, params, b0.obs);
    const logits = Float64Array.from({ length: N * A }, (_, k) => outAll[Math.floor(k / A) * (A + 1) + (k % A)]!);
    const values = Float64Array.from({ length: N }, (_, k) => outAll[k * (A + 1) + A]!);
    const b = ppoBatch(N, O, A, 23, logits, values);
    const feeds = ppoFeeds(params, b);
    const out = s.run(feeds);
    const r = fdCheck(s, feeds, Float64Array.from(out.grad as Float64Array));
    expect(r.n).toBe(P);
    expect(r.worst).toBeLessThanOrEqual(1);
  });

  it("attention actor with an MLP critic: gradient matches finite differences (float64)", async () => {
    const model = { actor: attentionNet({ ...spec, head: [12, A] }), critic: mlpNet({ sizes: [O, 8, 1], activation: "relu" }) } satisfies PpoModel;
    const Pa = netParamCount(model.actor);
    const P = Pa + netParamCount(model.critic);
    const params = randVec(P, 0.3, 31);
    const b0 = ppoBatch(N, O, A, 33, new Float64Array(N * A), new Float64Array(N));
    const logits = await forward(model.actor, params.subarray(0, Pa), b0.obs);
    const values = await forward(model.critic, params.subarray(Pa), b0.obs);
    const b = ppoBatch(N, O, A, 33, logits, values);
    const s = await open(buildGradGraph(ppoLossGraph(model, { numActions: A })));
    const feeds = ppoFeeds(params, b);
    const r = fdCheck(s, feeds, Float64Array.from(s.run(feeds).grad as Float64Array));
    expect(r.worst).toBeLessThanOrEqual(1);
  });
});

describe("DQN loss graph", () => {
  const O = 4;
  const nA = 3;
  const N = 10;
  for (const dueling of [false, true])
    for (const loss of ["mse", "huber"] as const) {
      it(`${loss}${dueling ? ", dueling" : ""}: gradient matches finite differences and the loss equals engine/rl/nn's (float64)`, async () => {
        const net = mlpNet({ sizes: [O, 12, nA + (dueling ? 1 : 0)], activation: "relu" });
        const P = netParamCount(net);
        const params = randVec(P, 0.5, 41);
        const obs = randVec(N * O, 1, 42);
        const actions = Int32Array.from({ length: N }, (_, k) => (k * 7) % nA);
        // targets at chosen TD errors away from the Huber kink (|d| = 1)
        const ref = new Mlp({ sizes: [O, 12, nA + (dueling ? 1 : 0)], hidden: "relu" });
        const raw = ref.predict(params, obs, N);
        const q = new Float64Array(N * nA);
        if (dueling) duelingForward(raw, q, N, nA);
        else q.set(raw);
        const tds = [0.3, -0.4, 2, -1.5, 0.6, -0.2, 1.3, -2.5];
        const qsa = Float64Array.from({ length: N }, (_, k) => q[k * nA + actions[k]!]!);
        const targets = Float64Array.from({ length: N }, (_, k) => qsa[k]! - tds[k % tds.length]!);
        const s = await open(buildGradGraph(dqnLossGraph(net, { numActions: nA, dueling, loss })));
        const feeds: Record<string, FeedArray> = { params, obs, actions, targets };
        const out = s.run(feeds);
        const want = loss === "mse" ? mse(qsa, targets, N) : huber(qsa, targets, N, 1);
        expect(Math.abs(Number(out.loss![0]) - want)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(Number(out.q_mean![0]) - qsa.reduce((a, b) => a + b, 0) / N)).toBeLessThanOrEqual(1e-12);
        const r = fdCheck(s, feeds, Float64Array.from(out.grad as Float64Array));
        expect(r.worst).toBeLessThanOrEqual(1);
      });
    }
});

describe("loss graph construction", () => {
  it("rejects networks whose outputs do not fit the loss", () => {
    expect(() => ppoLossGraph({ actor: mlpNet({ sizes: [3, 2] , activation: "tanh" }), critic: mlpNet({ sizes: [3, 1], activation: "tanh" }) }, { numActions: 3 })).toThrow(/actor needs numActions = 3/);
    expect(() => ppoLossGraph({ shared: mlpNet({ sizes: [3, 3], activation: "tanh" }) }, { numActions: 3 })).toThrow(/numActions \+ 1 = 4/);
    expect(() => dqnLossGraph(mlpNet({ sizes: [3, 3], activation: "tanh" }), { numActions: 3, dueling: true })).toThrow(/needs 4 outputs/);
  });
  it("the flat layout is the networks' own (actor then critic, mlpLayout order)", () => {
    const lg: LossGraph = ppoLossGraph({ actor: mlpNet({ sizes: [3, 4, 2], activation: "tanh" }), critic: mlpNet({ sizes: [3, 4, 1], activation: "tanh" }) }, { numActions: 2 });
    expect(lg.flat.slots.map((s) => [s.name, s.offset, s.size])).toEqual([
      ["actor/mlp.W0", 0, 12],
      ["actor/mlp.b0", 12, 4],
      ["actor/mlp.W1", 16, 8],
      ["actor/mlp.b1", 24, 2],
      ["critic/mlp.W0", 26, 12],
      ["critic/mlp.b0", 38, 4],
      ["critic/mlp.W1", 42, 4],
      ["critic/mlp.b1", 46, 1],
    ]);
  });
  it("trained flat parameters drop into the inference emitters: emitNet(params) reproduces the training graph's forward (MLP and attention)", async () => {
    const nets: NetSpec[] = [
      mlpNet({ sizes: [5, 7, 3], activation: "relu" }),
      attentionNet({ window: 3, features: 2, extra: 1, dModel: 4, heads: 2, head: [5, 2], activation: "tanh" }),
    ];
    for (const [k, net] of nets.entries()) {
      const params = randVec(netParamCount(net), 0.5, 50 + k);
      const inSize = net.kind === "mlp" ? net.mlp.sizes[0]! : 3 * 2 + 1;
      const x = randVec(4 * inSize, 1, 60 + k);
      const y = await forward(net, Float64Array.from(Float32Array.from(params)), x);
      const s = await open(buildGradGraph(mseLossGraph(net)));
      // params rounded to float32 as the inference graph stores them: the loss is ~0
      expect(Number(s.run({ params: Float64Array.from(Float32Array.from(params)), x, y }).loss![0])).toBeLessThan(1e-20);
    }
  });
});
