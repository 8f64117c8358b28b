import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = process.cwd();
function train(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(root, "server/cli/train.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
}
const lastJson = (out: string) => JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;

describe("npm run train (server/cli/train.ts)", () => {
  it("trains PPO and DQN on CartPole and prints one JSON object as the last line", () => {
    const p = train(["--env", "cartpole", "--algo", "ppo", "--steps", "4096", "--seed", "2", "--json"]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stderr).toBe("");
    const j = lastJson(p.stdout);
    expect(Object.keys(j)).toEqual(["env", "algo", "seed", "steps", "meanReturn100", "episodes", "stepsPerSecond", "elapsedMs", "solvedAtStep"]);
    expect(j).toMatchObject({ env: "cartpole", algo: "ppo", seed: 2, steps: 4096, solvedAtStep: null });
    expect(j.episodes as number).toBeGreaterThan(50);
    expect(j.meanReturn100 as number).toBeGreaterThan(9);
    expect(j.stepsPerSecond as number).toBeGreaterThan(0);

    const d = train(["--env", "cartpole", "--algo", "dqn", "--steps", "3000", "--seed", "2", "--json"]);
    expect(d.status, d.stderr).toBe(0);
    expect(lastJson(d.stdout)).toMatchObject({ env: "cartpole", algo: "dqn", seed: 2, steps: 3000 });

    // without --json: progress on stderr, a summary line on stdout
    const h = train(["--env", "cartpole", "--algo", "ppo", "--steps", "5120", "--seed", "2"]);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stderr).toMatch(/^iter 10\/10 step 5120 mean100 /m);
    expect(h.stdout).toMatch(/^ppo on CartPole-v1, seed 2: 5120 steps, \d+ episodes, mean return over the last 100 episodes [\d.]+/);
  }, 120_000);

  it("a run stopped and checkpointed, then resumed, ends exactly where the uninterrupted run ends", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-train-"));
    const ck = join(dir, "ppo.ck");
    const full = lastJson(train(["--env", "cartpole", "--algo", "ppo", "--steps", "10240", "--seed", "4", "--json"]).stdout);
    const part = train(["--env", "cartpole", "--algo", "ppo", "--steps", "10240", "--seed", "4", "--stop-at", "25", "--checkpoint", ck, "--json"]);
    expect(part.status, part.stderr).toBe(0);
    expect(lastJson(part.stdout).steps as number).toBeLessThan(10240);
    const rest = train(["--env", "cartpole", "--algo", "ppo", "--steps", "10240", "--resume", ck, "--json"]);
    expect(rest.status, rest.stderr).toBe(0);
    const r = lastJson(rest.stdout);
    expect({ ...r, stepsPerSecond: 0, elapsedMs: 0 }).toEqual({ ...full, stepsPerSecond: 0, elapsedMs: 0 });
    // a PPO checkpoint cannot be resumed as DQN
    const wrong = train(["--env", "cartpole", "--algo", "dqn", "--resume", ck, "--json"]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("not a DQN checkpoint");
  }, 120_000);

  it("refuses bad arguments with exit code 2, naming the argument", () => {
    const cases: [string[], string][] = [
      [["--algo", "ppo"], "--env is required"],
      [["--env", "pong", "--algo", "ppo"], "--env must be cartpole, got 'pong'"],
      [["--env", "cartpole", "--algo", "a2c"], "--algo must be ppo or dqn, got 'a2c'"],
      [["--env", "cartpole"], "--algo is required"],
      [["--env", "cartpole", "--algo", "ppo", "--steps", "10x"], "--steps must be an integer"],
      [["--env", "cartpole", "--algo", "ppo", "--steps", "100"], "--steps must be at least 512 for ppo"],
      [["--env", "cartpole", "--algo", "dqn", "--seed", "1.5"], "--seed must be an integer"],
      [["--env", "cartpole", "--algo", "dqn", "--num-envs", "0"], "--num-envs must be an integer"],
      [["--env", "cartpole", "--algo", "dqn", "--stop-at", "lots"], "--stop-at must be a number"],
      [["--env", "cartpole", "--algo", "dqn", "--resume", "/nonexistent/x.ck"], "--resume: cannot read /nonexistent/x.ck"],
      [["--env", "cartpole", "--algo", "ppo", "--bogus", "1"], "Unknown option '--bogus'"],
    ];
    for (const [args, msg] of cases) {
      const r = train(args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stdout).toBe("");
    }
  }, 120_000);
});
