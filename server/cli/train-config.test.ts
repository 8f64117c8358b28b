import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tf-train-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cwd = resolve(__dirname, "../..");
const cli = (args: string[]) => run(process.execPath, ["--import", "tsx", "server/cli/train.ts", ...args], { cwd, env: { ...process.env, DATA_DIR: dir } });

describe("npm run train -- --config FILE.json", () => {
  it("runs a configuration, saves the run and registers the model; the last line is one JSON object", async () => {
    const cfg = join(dir, "ppo.json");
    writeFileSync(cfg, JSON.stringify({ env: "cartpole", algo: "ppo", steps: 4096, seed: 5 }));
    const { stdout } = await cli(["--config", cfg, "--json"]);
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(out).toMatchObject({ env: "cartpole", algo: "ppo", seed: 5, steps: 4096, stopped: false });
    expect(out.evaluation.episodes).toBe(100);
    expect(typeof out.modelId).toBe("string");
    // the same configuration and seed give the same result (reproducibility)
    const again = JSON.parse((await cli(["--config", cfg, "--json", "--no-save"])).stdout.trim().split("\n").at(-1)!);
    expect(again.meanReturn100).toBe(out.meanReturn100);
    expect(again.evaluation.meanReturn).toBe(out.evaluation.meanReturn);
  }, 120_000);

  it("refuses an impossible configuration before anything runs, naming the field (exit 2)", async () => {
    const cfg = join(dir, "bad.json");
    writeFileSync(cfg, JSON.stringify({ env: "cartpole", algo: "ppo", steps: 1000, ppo: { gamma: 3 } }));
    const err = (await cli(["--config", cfg, "--no-save"]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/ppo\.gamma/);
  }, 60_000);
});
