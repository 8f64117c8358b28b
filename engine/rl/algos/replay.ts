/**
 * Experience replay for DQN in flat typed arrays, plus the n-step return accumulator.
 *
 * A transition is (obs, action, R, nextObs, done, discount): the learning target is
 *   R + discount * (1 - done) * max_a' Q_target(nextObs, a')
 * with R = sum_{k<m} gamma^k r_k over the m <= n steps it covers and discount = gamma^m, so 1-step
 * and n-step transitions share one format. `done` is TERMINATION only: a time-limit truncation
 * bootstraps from the true final observation (CleanRL stores `final_observation` as next_obs and
 * terminations as dones).
 *
 * Observations are stored as float32 (as Stable-Baselines3 / CleanRL store them): half the memory
 * of float64; CartPole observations are float32 values already, so nothing is lost there.
 * Sampling is uniform with replacement over the filled part (SB3's randint).
 */
import type { Rng } from "../rng";

export interface ReplayBatch {
  obs: Float64Array;
  nextObs: Float64Array;
  actions: Int32Array;
  rewards: Float64Array;
  dones: Float64Array;
  discounts: Float64Array;
}

export class ReplayBuffer {
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly actions: Int32Array;
  readonly rewards: Float64Array;
  readonly dones: Uint8Array;
  readonly discounts: Float64Array;
  pos = 0;
  full = false;

  constructor(
    readonly capacity: number,
    readonly obsSize: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`replay capacity must be a positive integer, got ${capacity}`);
    this.obs = new Float32Array(capacity * obsSize);
    this.nextObs = new Float32Array(capacity * obsSize);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float64Array(capacity);
    this.dones = new Uint8Array(capacity);
    this.discounts = new Float64Array(capacity);
  }

  get size(): number {
    return this.full ? this.capacity : this.pos;
  }

  add(obs: Float64Array, obsOff: number, nextObs: Float64Array, nextOff: number, action: number, reward: number, done: boolean, discount: number): void {
    const O = this.obsSize,
      k = this.pos;
    for (let j = 0; j < O; j++) {
      this.obs[k * O + j] = obs[obsOff + j]!;
      this.nextObs[k * O + j] = nextObs[nextOff + j]!;
    }
    this.actions[k] = action;
    this.rewards[k] = reward;
    this.dones[k] = done ? 1 : 0;
    this.discounts[k] = discount;
    this.pos = k + 1;
    if (this.pos === this.capacity) {
      this.pos = 0;
      this.full = true;
    }
  }

  /** Fills `out` with `batch` transitions drawn uniformly with replacement. */
  sample(rng: Rng, batch: number, out: ReplayBatch): void {
    const n = this.size;
    if (n === 0) throw new Error("replay buffer is empty");
    const O = this.obsSize;
    for (let b = 0; b < batch; b++) {
      const k = rng.int(n);
      for (let j = 0; j < O; j++) {
        out.obs[b * O + j] = this.obs[k * O + j]!;
        out.nextObs[b * O + j] = this.nextObs[k * O + j]!;
      }
      out.actions[b] = this.actions[k]!;
      out.rewards[b] = this.rewards[k]!;
      out.dones[b] = this.dones[k]!;
      out.discounts[b] = this.discounts[k]!;
    }
  }

  static batch(batch: number, obsSize: number): ReplayBatch {
    return {
      obs: new Float64Array(batch * obsSize),
      nextObs: new Float64Array(batch * obsSize),
      actions: new Int32Array(batch),
      rewards: new Float64Array(batch),
      dones: new Float64Array(batch),
      discounts: new Float64Array(batch),
    };
  }
}

/**
 * Per-environment n-step accumulator: holds the last (up to n) (obs, action, reward) of each
 * environment and emits n-step transitions into the replay buffer. When an episode ends every
 * pending transition is flushed with a shorter horizon (done = terminated; the true final
 * observation as next). With n = 1 each step is emitted at once with discount gamma.
 */
export class NStepAccumulator {
  readonly pObs: Float64Array;
  readonly pAct: Int32Array;
  readonly pRew: Float64Array;
  readonly count: Int32Array;
  readonly head: Int32Array;

  constructor(
    readonly numEnvs: number,
    readonly obsSize: number,
    readonly n: number,
    readonly gamma: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`nStep must be a positive integer, got ${n}`);
    this.pObs = new Float64Array(numEnvs * n * obsSize);
    this.pAct = new Int32Array(numEnvs * n);
    this.pRew = new Float64Array(numEnvs * n);
    this.count = new Int32Array(numEnvs);
    this.head = new Int32Array(numEnvs);
  }

  /**
   * Adds env i's transition (obs row, action, reward); `next` / `nextOff` is the real next
   * observation (the final observation when the episode ended).
   */
  push(rb: ReplayBuffer, i: number, obs: Float64Array, obsOff: number, action: number, reward: number, terminated: boolean, ended: boolean, next: Float64Array, nextOff: number): void {
    const { n, obsSize: O } = this;
    const base = i * n;
    const slot = (this.head[i]! + this.count[i]!) % n;
    this.pObs.set(obs.subarray(obsOff, obsOff + O), (base + slot) * O);
    this.pAct[base + slot] = action;
    this.pRew[base + slot] = reward;
    this.count[i] = this.count[i]! + 1;
    if (ended) {
      while (this.count[i]! > 0) this.emitOldest(rb, i, terminated, next, nextOff);
      this.head[i] = 0;
    } else if (this.count[i] === n) this.emitOldest(rb, i, false, next, nextOff);
  }

  private emitOldest(rb: ReplayBuffer, i: number, done: boolean, next: Float64Array, nextOff: number): void {
    const { n, obsSize: O, gamma } = this;
    const base = i * n;
    const h = this.head[i]!,
      m = this.count[i]!;
    let R = 0,
      g = 1;
    for (let k = 0; k < m; k++) {
      R += g * this.pRew[base + ((h + k) % n)]!;
      g *= gamma;
    }
    rb.add(this.pObs, (base + h) * O, next, nextOff, this.pAct[base + h]!, R, done, g);
    this.head[i] = (h + 1) % n;
    this.count[i] = m - 1;
  }
}
