/**
 * Pieces shared by the trainers: episode statistics, env/RNG (de)serialisation into checkpoints,
 * and NaN/infinity guards.
 */
import type { TypedArray } from "../nn/checkpoint";
import type { RngState } from "../rng";
import type { EnvSnapshot, VecEnv, VecStep } from "./env";

/** Returns of finished episodes: a ring of the last `window` (default 100), plus totals. */
export class EpisodeStats {
  readonly returns: Float64Array;
  readonly lengths: Int32Array;
  /** episodes finished so far */
  count = 0;
  /** return of the most recent episode (NaN before the first) */
  lastReturn = NaN;

  constructor(readonly window = 100) {
    this.returns = new Float64Array(window);
    this.lengths = new Int32Array(window);
  }

  add(ret: number, len: number): void {
    const k = this.count % this.window;
    this.returns[k] = ret;
    this.lengths[k] = len;
    this.count++;
    this.lastReturn = ret;
  }

  /** Records every episode that ended in this step (terminated or truncated). Returns how many. */
  addFromStep(s: VecStep, numEnvs: number): number {
    let n = 0;
    for (let i = 0; i < numEnvs; i++)
      if (s.terminated[i] || s.truncated[i]) {
        this.add(s.episodeReturn[i]!, s.episodeLength[i]!);
        n++;
      }
    return n;
  }

  /** Mean return over the last min(count, window) episodes (NaN before the first). */
  meanReturn(): number {
    const n = Math.min(this.count, this.window);
    if (n === 0) return NaN;
    let s = 0;
    for (let k = 0; k < n; k++) s += this.returns[k]!;
    return s / n;
  }

  /** True once `window` episodes have finished and their mean return is at least `threshold`. */
  reached(threshold: number): boolean {
    return this.count >= this.window && this.meanReturn() >= threshold;
  }

  getState() {
    return { window: this.window, count: this.count, lastReturn: Number.isNaN(this.lastReturn) ? null : this.lastReturn };
  }

  setState(meta: { window: number; count: number; lastReturn: number | null }, returns: Float64Array, lengths: Int32Array): void {
    if (meta.window !== this.window) throw new Error(`episode window ${meta.window} in checkpoint, expected ${this.window}`);
    this.count = meta.count;
    this.lastReturn = meta.lastReturn ?? NaN;
    this.returns.set(returns);
    this.lengths.set(lengths);
  }
}

/** Adds an env snapshot's arrays to a checkpoint array map under "env." names; returns its meta. */
export function envToCheckpoint(env: VecEnv, arrays: Record<string, TypedArray>): unknown {
  const snap = env.saveState();
  for (const [k, v] of Object.entries(snap.arrays)) arrays[`env.${k}`] = v;
  return snap.meta;
}

export function envFromCheckpoint(env: VecEnv, meta: unknown, arrays: Record<string, TypedArray>): void {
  const a: Record<string, TypedArray> = {};
  for (const [k, v] of Object.entries(arrays)) if (k.startsWith("env.")) a[k.slice(4)] = v;
  const snap: EnvSnapshot = { meta, arrays: a };
  env.loadState(snap);
}

/** Checks the environment a checkpoint was made with. */
export function checkEnvMatches(env: VecEnv, m: { envId: string; numEnvs: number; obsSize: number; numActions: number }): void {
  if (env.id !== m.envId || env.numEnvs !== m.numEnvs || env.obsSize !== m.obsSize || env.numActions !== m.numActions)
    throw new Error(`checkpoint was made on ${m.envId} (${m.numEnvs} envs, obs ${m.obsSize}, actions ${m.numActions}); this environment is ${env.id} (${env.numEnvs} envs, obs ${env.obsSize}, actions ${env.numActions})`);
}

/** Throws a message naming the quantity and the step when x is NaN or infinite. */
export function assertFinite(x: number, what: string, step: number): void {
  if (!Number.isFinite(x)) throw new Error(`${what} is ${x} at environment step ${step}; training stopped`);
}

export type { RngState };
