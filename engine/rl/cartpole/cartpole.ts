/**
 * CartPole-v1 as documented by Gymnasium (gymnasium/envs/classic_control/cartpole.py), vectorised.
 *
 * Dynamics (Florian 2007 / Barto, Sutton & Anderson 1983), Euler integration, tau = 0.02 s:
 *   force    = +10 for action 1, -10 for action 0
 *   temp     = (force + polemass_length * theta_dot^2 * sin(theta)) / total_mass
 *   thetaacc = (g sin(theta) - cos(theta) temp) / (length (4/3 - masspole cos^2(theta) / total_mass))
 *   xacc     = temp - polemass_length * thetaacc * cos(theta) / total_mass
 *   x += tau x_dot; x_dot += tau xacc; theta += tau theta_dot; theta_dot += tau thetaacc
 * with g = 9.8, masscart = 1.0, masspole = 0.1, total_mass = 1.1, length = 0.5 (half the pole),
 * polemass_length = 0.05. Terminated when |x| > 2.4 or |theta| > 12 deg (12 * 2 pi / 360 rad);
 * truncated after 500 steps (TimeLimit); reward 1 for every step including the last; initial state
 * uniform(-0.05, 0.05) in all four variables. The state is float64 (as Gymnasium keeps it) and the
 * observation is the state rounded to float32 (as Gymnasium returns it), stored in a Float64Array.
 * The arithmetic follows Gymnasium's expression order so a state matches it up to the last bit of
 * sin/cos.
 *
 * Vectorised: N environments in flat arrays, same-step auto-reset (see algos/env.ts). Environment i
 * draws its initial states from Rng.create(seed, "cartpole", i).
 */
import type { EnvSnapshot, VecEnv, VecStep } from "../algos/env";
import { Rng, type RngState } from "../rng";

export const CARTPOLE = Object.freeze({
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  totalMass: 0.1 + 1.0,
  length: 0.5,
  poleMassLength: 0.1 * 0.5,
  forceMag: 10.0,
  tau: 0.02,
  thetaThreshold: (12 * 2 * Math.PI) / 360,
  xThreshold: 2.4,
  maxEpisodeSteps: 500,
});

/**
 * One Euler step of the dynamics for the 4-vector at s[o .. o+4), in place. Returns true when the
 * new state is terminal.
 */
export function cartPoleDynamics(s: Float64Array, o: number, action: number): boolean {
  const C = CARTPOLE;
  let x = s[o]!,
    xDot = s[o + 1]!,
    theta = s[o + 2]!,
    thetaDot = s[o + 3]!;
  const force = action === 1 ? C.forceMag : -C.forceMag;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const temp = (force + C.poleMassLength * (thetaDot * thetaDot) * sin) / C.totalMass;
  const thetaAcc = (C.gravity * sin - cos * temp) / (C.length * (4.0 / 3.0 - (C.massPole * (cos * cos)) / C.totalMass));
  const xAcc = temp - (C.poleMassLength * thetaAcc * cos) / C.totalMass;
  x = x + C.tau * xDot;
  xDot = xDot + C.tau * xAcc;
  theta = theta + C.tau * thetaDot;
  thetaDot = thetaDot + C.tau * thetaAcc;
  s[o] = x;
  s[o + 1] = xDot;
  s[o + 2] = theta;
  s[o + 3] = thetaDot;
  return x < -C.xThreshold || x > C.xThreshold || theta < -C.thetaThreshold || theta > C.thetaThreshold;
}

export interface CartPoleOptions {
  /** steps before truncation (TimeLimit), default 500 */
  maxEpisodeSteps?: number;
}

export class CartPoleVec implements VecEnv {
  readonly id: string;
  readonly obsSize = 4;
  readonly numActions = 2;
  readonly maxEpisodeSteps: number;
  /** float64 physical state, N x 4: x, x_dot, theta, theta_dot */
  readonly state: Float64Array;
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly finalObs: Float64Array;
  readonly episodeReturn: Float64Array;
  readonly episodeLength: Int32Array;
  /** running return and step count of the current episode of each environment */
  readonly runningReturn: Float64Array;
  readonly elapsed: Int32Array;
  private rngs: Rng[] = [];
  private started = false;

  constructor(
    readonly numEnvs: number,
    opts: CartPoleOptions = {},
  ) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new RangeError(`numEnvs must be a positive integer, got ${numEnvs}`);
    this.maxEpisodeSteps = opts.maxEpisodeSteps ?? CARTPOLE.maxEpisodeSteps;
    if (!Number.isInteger(this.maxEpisodeSteps) || this.maxEpisodeSteps < 1) throw new RangeError(`maxEpisodeSteps must be a positive integer, got ${this.maxEpisodeSteps}`);
    this.id = this.maxEpisodeSteps === 500 ? "CartPole-v1" : `CartPole-v1(maxEpisodeSteps=${this.maxEpisodeSteps})`;
    const n = numEnvs;
    this.state = new Float64Array(n * 4);
    this.obs = new Float64Array(n * 4);
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.finalObs = new Float64Array(n * 4);
    this.episodeReturn = new Float64Array(n);
    this.episodeLength = new Int32Array(n);
    this.runningReturn = new Float64Array(n);
    this.elapsed = new Int32Array(n);
  }

  reset(seed: number): Float64Array {
    this.rngs = Array.from({ length: this.numEnvs }, (_, i) => Rng.create(seed, "cartpole", i));
    for (let i = 0; i < this.numEnvs; i++) this.resetOne(i);
    this.rewards.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    this.started = true;
    return this.obs;
  }

  private resetOne(i: number): void {
    const r = this.rngs[i]!;
    const o = i * 4;
    for (let k = 0; k < 4; k++) {
      const v = -0.05 + 0.1 * r.uniform(); // np_random.uniform(-0.05, 0.05)
      this.state[o + k] = v;
      this.obs[o + k] = Math.fround(v);
    }
    this.runningReturn[i] = 0;
    this.elapsed[i] = 0;
  }

  step(actions: Int32Array): VecStep {
    if (!this.started) throw new Error("CartPole: call reset(seed) before step()");
    if (actions.length < this.numEnvs) throw new RangeError(`CartPole: expected ${this.numEnvs} actions, got ${actions.length}`);
    const s = this.state,
      obs = this.obs;
    for (let i = 0; i < this.numEnvs; i++) {
      const a = actions[i]!;
      if (a !== 0 && a !== 1) throw new RangeError(`CartPole: action of environment ${i} must be 0 or 1, got ${a}`);
      const o = i * 4;
      const term = cartPoleDynamics(s, o, a);
      const ret = this.runningReturn[i]! + 1;
      const len = this.elapsed[i]! + 1;
      const trunc = len >= this.maxEpisodeSteps;
      this.rewards[i] = 1;
      this.terminated[i] = term ? 1 : 0;
      this.truncated[i] = trunc ? 1 : 0;
      for (let k = 0; k < 4; k++) obs[o + k] = Math.fround(s[o + k]!);
      if (term || trunc) {
        for (let k = 0; k < 4; k++) this.finalObs[o + k] = obs[o + k]!;
        this.episodeReturn[i] = ret;
        this.episodeLength[i] = len;
        this.resetOne(i);
      } else {
        this.runningReturn[i] = ret;
        this.elapsed[i] = len;
      }
    }
    return this;
  }

  saveState(): EnvSnapshot {
    return {
      meta: { id: this.id, numEnvs: this.numEnvs, started: this.started, rngs: this.rngs.map((r) => r.getState()) },
      arrays: {
        state: this.state.slice(),
        obs: this.obs.slice(),
        runningReturn: this.runningReturn.slice(),
        elapsed: this.elapsed.slice(),
        rewards: this.rewards.slice(),
        terminated: this.terminated.slice(),
        truncated: this.truncated.slice(),
        finalObs: this.finalObs.slice(),
        episodeReturn: this.episodeReturn.slice(),
        episodeLength: this.episodeLength.slice(),
      },
    };
  }

  loadState(snap: EnvSnapshot): void {
    const m = snap.meta as { id: string; numEnvs: number; started: boolean; rngs: RngState[] };
    if (m.id !== this.id || m.numEnvs !== this.numEnvs) throw new Error(`CartPole: snapshot is for ${m.id} x ${m.numEnvs}, this is ${this.id} x ${this.numEnvs}`);
    const a = snap.arrays;
    this.state.set(a.state as Float64Array);
    this.obs.set(a.obs as Float64Array);
    this.runningReturn.set(a.runningReturn as Float64Array);
    this.elapsed.set(a.elapsed as Int32Array);
    this.rewards.set(a.rewards as Float64Array);
    this.terminated.set(a.terminated as Uint8Array);
    this.truncated.set(a.truncated as Uint8Array);
    this.finalObs.set(a.finalObs as Float64Array);
    this.episodeReturn.set(a.episodeReturn as Float64Array);
    this.episodeLength.set(a.episodeLength as Int32Array);
    this.rngs = m.rngs.map((s) => Rng.fromState(s));
    this.started = m.started;
  }
}
