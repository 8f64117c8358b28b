/**
 * Sanity: PPO with CleanRL's ppo.py defaults (4 envs, 128 steps, 2x64 tanh, lr 2.5e-4 annealed over
 * 500k steps, ...) solves CartPole-v1: the mean return over the last 100 episodes reaches >= 475
 * within 500,000 environment steps. Fixed seed; the run stops at the first iteration where the
 * mean reaches 475. No hyper-parameter deviates from CleanRL's defaults.
 * Runs the default update backend ("onnx": each minibatch update is one float64 ORT graph; the
 * rollout is TypeScript). Measured here (seed 1): see the console line the test prints; wall time
 * ~7 s with "onnx" (reached at step 268,288), ~20-25 s with "ts" (reached at step 253,440: the two
 * backends agree to ~1e-15 per update, but the runs drift apart over hundreds of thousands of steps).
 */
import { describe, expect, it } from "vitest";
import { CartPoleVec } from "../cartpole/cartpole";
import { Ppo } from "./ppo";

describe("PPO on CartPole-v1 (sanity)", () => {
  it("reaches a mean return >= 475 over 100 episodes within 500k environment steps", () => {
    const ppo = new Ppo(new CartPoleVec(4), { seed: 1, totalTimesteps: 500_000 });
    const t0 = performance.now();
    let reachedAt: number | null = null;
    ppo.train({
      maxSteps: 500_000,
      stop: (l) => {
        if (ppo.episodes.reached(475)) reachedAt = l.globalStep;
        return reachedAt !== null;
      },
    });
    const s = (performance.now() - t0) / 1000;
    const mean = ppo.episodes.meanReturn();
    console.log(`PPO CartPole seed 1: mean100 ${mean.toFixed(2)} first reached at step ${reachedAt} (${ppo.episodes.count} episodes), ${s.toFixed(1)} s, ${Math.round(ppo.globalStep / s)} steps/s`);
    expect(reachedAt).not.toBeNull();
    expect(reachedAt!).toBeLessThanOrEqual(500_000);
    expect(mean).toBeGreaterThanOrEqual(475);
    expect(ppo.episodes.count).toBeGreaterThanOrEqual(100);
  }, 300_000);
});
