import { describe, expect, it } from "vitest";
import { CARTPOLE, CartPoleVec, cartPoleDynamics } from "./cartpole";

/** A linear controller that keeps the pole up for the whole 500-step episode. */
const balance = (o: Float64Array, i: number) => (o[i * 4 + 2]! + 0.5 * o[i * 4 + 3]! + 0.01 * o[i * 4]! + 0.1 * o[i * 4 + 1]! > 0 ? 1 : 0);

describe("CartPole-v1 dynamics", () => {
  it("constants are Gymnasium's", () => {
    expect(CARTPOLE.totalMass).toBe(1.1);
    expect(CARTPOLE.poleMassLength).toBe(0.05);
    expect(CARTPOLE.thetaThreshold).toBeCloseTo(0.20943951023931953, 16); // 12 * 2 * pi / 360
    expect(CARTPOLE.maxEpisodeSteps).toBe(500);
  });

  it("one step by hand from the Gymnasium equations", () => {
    // state (0.01, -0.02, 0.03, 0.04), push right (force +10):
    const theta = 0.03,
      thetaDot = 0.04;
    const temp = (10 + 0.05 * thetaDot ** 2 * Math.sin(theta)) / 1.1; // 9.090910...
    const thetaAcc = (9.8 * Math.sin(theta) - Math.cos(theta) * temp) / (0.5 * (4 / 3 - (0.1 * Math.cos(theta) ** 2) / 1.1));
    const xAcc = temp - (0.05 * thetaAcc * Math.cos(theta)) / 1.1;
    expect(temp).toBeCloseTo(9.09091, 5);
    expect(thetaAcc).toBeCloseTo(-14.1534, 4);
    expect(xAcc).toBeCloseTo(9.73396, 5);
    const s = Float64Array.of(0.01, -0.02, 0.03, 0.04);
    expect(cartPoleDynamics(s, 0, 1)).toBe(false);
    // Euler: x += tau x_dot, x_dot += tau xacc, theta += tau theta_dot, theta_dot += tau thetaacc
    expect(s[0]).toBeCloseTo(0.01 + 0.02 * -0.02, 16);
    expect(s[1]).toBeCloseTo(-0.02 + 0.02 * xAcc, 16);
    expect(s[2]).toBeCloseTo(0.03 + 0.02 * 0.04, 16);
    expect(s[3]).toBeCloseTo(0.04 + 0.02 * thetaAcc, 16);
  });

  it("matches a transcription of gymnasium's CartPoleEnv.step for three steps (right, right, left)", () => {
    // reference values: the body of gymnasium's cartpole.py step() run with numpy float64
    const expected = [
      [0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081],
      [0.013093583914951107, 0.3693479760579556, 0.025938625640799837, -0.5258796280501483],
      [0.02048054343611022, 0.17387081260481596, 0.01542103307979687, -0.22513741609237464],
    ];
    const s = Float64Array.of(0.01, -0.02, 0.03, 0.04);
    [1, 1, 0].forEach((a, t) => {
      cartPoleDynamics(s, 0, a);
      for (let k = 0; k < 4; k++) expect(s[k]).toBeCloseTo(expected[t]![k]!, 15);
    });
  });

  it("terminates on |theta| > 12 degrees or |x| > 2.4, not before", () => {
    // pushing right from rest: the pole falls left past -12 deg at step 9 (gymnasium gives the same)
    const s = new Float64Array(4);
    let n = 0;
    while (!cartPoleDynamics(s, 0, 1)) n++;
    expect(n + 1).toBe(9);
    expect(s[2]).toBeCloseTo(-0.21518604988500967, 14);
    // just inside / outside the position limit (theta kept at 0 by a zero state apart from x)
    const a = Float64Array.of(2.39, 0.4, 0, 0);
    expect(cartPoleDynamics(a, 0, 1)).toBe(false); // x = 2.398
    expect(cartPoleDynamics(a, 0, 1)).toBe(true); // x > 2.4
    const b = Float64Array.of(0, 0, -0.2, -0.5);
    expect(cartPoleDynamics(b, 0, 0)).toBe(true); // theta = -0.21 < -0.2094
  });
});

describe("CartPoleVec", () => {
  it("resets each environment uniformly in (-0.05, 0.05), deterministically per seed and index", () => {
    const e1 = new CartPoleVec(4),
      e2 = new CartPoleVec(4);
    const o1 = e1.reset(7).slice(),
      o2 = e2.reset(7).slice();
    expect(o1).toEqual(o2);
    for (const v of o1) expect(Math.abs(v)).toBeLessThan(0.05);
    expect(o1.subarray(0, 4)).not.toEqual(o1.subarray(4, 8));
    expect(new CartPoleVec(4).reset(8)).not.toEqual(o1);
    // the observation is the float64 state rounded to float32, as Gymnasium returns it
    for (let k = 0; k < 16; k++) expect(o1[k]).toBe(Math.fround(e1.state[k]!));
    // environment i's stream does not depend on how many environments there are
    const e3 = new CartPoleVec(2);
    expect(e3.reset(7)).toEqual(o1.subarray(0, 8));
  });

  it("steps all environments, rewards 1, auto-resets a terminated one and records its return", () => {
    const env = new CartPoleVec(2);
    env.reset(1);
    const acts = Int32Array.of(1, 0);
    let steps = 0;
    for (;;) {
      const before = env.state.slice();
      const r = env.step(acts);
      steps++;
      expect([...r.rewards]).toEqual([1, 1]);
      const s0 = before.subarray(0, 4);
      cartPoleDynamics(s0, 0, 1);
      if (r.terminated[0]) {
        expect(r.truncated[0]).toBe(0);
        expect(r.episodeReturn[0]).toBe(steps);
        expect(r.episodeLength[0]).toBe(steps);
        for (let k = 0; k < 4; k++) expect(r.finalObs[k]).toBe(Math.fround(s0[k]!));
        // auto-reset: obs is already the next episode's first observation
        for (let k = 0; k < 4; k++) expect(Math.abs(r.obs[k]!)).toBeLessThan(0.05);
        break;
      }
      for (let k = 0; k < 4; k++) expect(r.obs[k]).toBe(Math.fround(s0[k]!));
      expect(steps).toBeLessThan(50);
    }
    expect(steps).toBeGreaterThan(5);
    expect(env.elapsed[0]).toBe(0);
  });

  it("truncates at 500 steps (reward 1 on the last step, return 500) and at a custom limit", () => {
    const env = new CartPoleVec(3);
    env.reset(3);
    const acts = new Int32Array(3);
    for (let t = 1; t <= 500; t++) {
      for (let i = 0; i < 3; i++) acts[i] = balance(env.obs, i);
      env.step(acts);
      expect([...env.terminated]).toEqual([0, 0, 0]);
      if (t < 500) expect([...env.truncated]).toEqual([0, 0, 0]);
    }
    expect([...env.truncated]).toEqual([1, 1, 1]);
    expect([...env.episodeReturn]).toEqual([500, 500, 500]);
    const short = new CartPoleVec(1, { maxEpisodeSteps: 5 });
    short.reset(0);
    for (let t = 0; t < 5; t++) short.step(Int32Array.of(balance(short.obs, 0)));
    expect(short.truncated[0]).toBe(1);
    expect(short.episodeLength[0]).toBe(5);
  });

  it("refuses bad actions and stepping before reset", () => {
    const env = new CartPoleVec(2);
    expect(() => env.step(Int32Array.of(0, 1))).toThrow(/reset/);
    env.reset(0);
    expect(() => env.step(Int32Array.of(0, 2))).toThrow(/environment 1 must be 0 or 1/);
    expect(() => new CartPoleVec(0)).toThrow(/numEnvs/);
  });

  it("saveState/loadState continue exactly (including the reset streams)", () => {
    const a = new CartPoleVec(4);
    a.reset(11);
    const acts = new Int32Array(4);
    let t = 0;
    const drive = (env: CartPoleVec, n: number) => {
      const out: number[] = [];
      for (let k = 0; k < n; k++, t++) {
        for (let i = 0; i < 4; i++) acts[i] = (t * 7 + i * 3) % 5 < 2 ? 1 : 0;
        env.step(acts);
        out.push(...env.obs, ...env.episodeReturn);
      }
      return out;
    };
    drive(a, 100);
    const snap = a.saveState();
    const t0 = t;
    const ref = drive(a, 200);
    const b = new CartPoleVec(4);
    b.loadState({ meta: JSON.parse(JSON.stringify(snap.meta)), arrays: snap.arrays }); // meta survives JSON
    t = t0;
    expect(drive(b, 200)).toEqual(ref);
    expect(() => new CartPoleVec(3).loadState(snap)).toThrow(/snapshot/);
  });
});
