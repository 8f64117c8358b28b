/**
 * The algorithm-agnostic vectorised environment contract that PPO and DQN train on.
 * CartPole (engine/rl/cartpole) implements it; the trading environment plugs in the same way.
 *
 * N environments step together; all data lives in flat typed arrays owned by the environment and
 * overwritten by every step (no allocation per step):
 *   obs            N x obsSize, row-major. After step() this is the observation to act on next:
 *                  for an environment whose episode just ended it is already the FIRST observation of
 *                  its next episode (same-step auto-reset, as gym's SyncVectorEnv in CleanRL).
 *   rewards        N, reward of the transition just taken
 *   terminated     N, 1 when the episode ended in a terminal state (no bootstrapping)
 *   truncated      N, 1 when the episode was cut by a time limit (the last state is not terminal)
 *   finalObs       N x obsSize, the true last observation of an episode that ended at this step
 *                  (valid where terminated | truncated; DQN stores it as next_obs)
 *   episodeReturn  N, undiscounted return of the episode that ended at this step (valid where done)
 *   episodeLength  N, its length in steps (valid where done)
 *
 * Determinism: reset(seed) fully defines every later observation given the actions. For exact
 * resumption the environment serialises its complete state (including its random streams and the
 * current observations) with saveState() and restores it with loadState().
 */
import type { TypedArray } from "../nn/checkpoint";

export interface EnvSnapshot {
  /** JSON-serialisable part (numbers must be finite) */
  meta: unknown;
  /** bulk state, stored bit-exactly */
  arrays: Record<string, TypedArray>;
}

export interface VecStep {
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly finalObs: Float64Array;
  readonly episodeReturn: Float64Array;
  readonly episodeLength: Int32Array;
}

export interface ObsLayout {
  window: number;
  features: number;
  extra: number;
}

export interface VecEnv extends VecStep {
  /** identifies the environment and its configuration in checkpoints, e.g. "CartPole-v1" */
  readonly id: string;
  readonly numEnvs: number;
  readonly obsSize: number;
  readonly numActions: number;
  /**
   * Environments whose observation is a window of feature rows (oldest first, row-major) followed
   * by `extra` values say so here; attention policies need it (obsSize = window x features + extra).
   */
  readonly obsLayout?: ObsLayout;
  /** What observation value k of environment i is (e.g. "feature rsi_14 of bar 812 (2024-01-02T13:31:00.000Z)"), for error messages. */
  describeObs?(i: number, k: number): string;
  /** Starts every environment afresh from `seed`; returns obs. */
  reset(seed: number): Float64Array;
  /** Applies one action per environment (each in [0, numActions)); returns this step's arrays. */
  step(actions: Int32Array): VecStep;
  saveState(): EnvSnapshot;
  loadState(s: EnvSnapshot): void;
}

/** Throws with the environment index and observation feature when an observation is not finite. */
export function assertFiniteObs(env: VecEnv, where: string): void {
  const o = env.obs;
  for (let k = 0; k < o.length; k++)
    if (!Number.isFinite(o[k]!)) {
      const i = Math.floor(k / env.obsSize);
      const j = k % env.obsSize;
      const what = env.describeObs ? env.describeObs(i, j) : `observation feature ${j}`;
      throw new Error(`${where}: ${what} (value ${j} of environment ${i}'s observation) is ${o[k]}; training stopped`);
    }
}
