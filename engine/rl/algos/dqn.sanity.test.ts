/**
 * Sanity: DQN with CleanRL's dqn.py defaults (1 env, 120-84 ReLU, lr 2.5e-4, buffer 10k, batch 128,
 * learning starts 10k, train every 10 steps, hard target update every 500, epsilon 1 -> 0.05 over
 * half of 500k steps, MSE loss, no double / dueling / n-step) solves CartPole-v1: the mean return
 * over the last 100 episodes reaches >= 475 within 500,000 environment steps. Fixed seed; the run
 * stops at the first step where the mean reaches 475. No hyper-parameter deviates from CleanRL.
 * Measured here (seed 1, default ONNX training step): first at step 274,335, ~25 s (the TypeScript
 * path reaches it at the same step: the backends agree to ~1e-9).
 */
import { describe, expect, it } from "vitest";
import { CartPoleVec } from "../cartpole/cartpole";
import { Dqn } from "./dqn";

describe("DQN on CartPole-v1 (sanity)", () => {
  it("reaches a mean return >= 475 over 100 episodes within 500k environment steps", () => {
    const dqn = new Dqn(new CartPoleVec(1), { seed: 1, totalTimesteps: 500_000 });
    const t0 = performance.now();
    let reachedAt: number | null = null;
    let seen = 0;
    dqn.train({
      maxSteps: 500_000,
      stop: (d) => {
        if (d.episodes.count === seen) return false;
        seen = d.episodes.count;
        if (d.episodes.reached(475)) reachedAt = d.globalStep;
        return reachedAt !== null;
      },
    });
    const s = (performance.now() - t0) / 1000;
    const mean = dqn.episodes.meanReturn();
    console.log(`DQN CartPole seed 1: mean100 ${mean.toFixed(2)} first reached at step ${reachedAt} (${dqn.episodes.count} episodes), ${s.toFixed(1)} s, ${Math.round(dqn.globalStep / s)} steps/s`);
    expect(reachedAt).not.toBeNull();
    expect(reachedAt!).toBeLessThanOrEqual(500_000);
    expect(mean).toBeGreaterThanOrEqual(475);
    expect(dqn.episodes.count).toBeGreaterThanOrEqual(100);
  }, 300_000);
});
