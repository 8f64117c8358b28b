import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDb } from "@/prisma/db";
import { authenticate } from "@/server/auth/authenticate";
import { loginAttemptsRepo, usersRepo } from "@/server/db/users";

const root = process.cwd();
function run(script: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", join(root, script), ...args], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
}

describe("npm run user:create", () => {
  it("creates a user that can sign in, and refuses a duplicate", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tf-cli-"));
    const ok = run("server/cli/user-create.ts", ["--email", "Trader@Example.com", "--password", "trader-pass-1", "--role", "trader"], { DATA_DIR: dataDir, DATABASE_URL: "" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("created trader@example.com with role trader");
    const db = createDb(`file:${join(dataDir, "tradeforge.db")}`);
    try {
      const res = await authenticate({ users: usersRepo(db), attempts: loginAttemptsRepo(db) }, { email: "trader@example.com", password: "trader-pass-1", ip: "127.0.0.1" });
      expect(res).toMatchObject({ ok: true, user: { role: "trader" } });
    } finally {
      await db.$disconnect();
    }
    const dup = run("server/cli/user-create.ts", ["--email", "trader@example.com", "--password", "trader-pass-1", "--role", "trader"], { DATA_DIR: dataDir, DATABASE_URL: "" });
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain("already exists");
  });

  it("names each bad argument", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tf-cli-"));
    const bad = run("server/cli/user-create.ts", ["--email", "nope", "--password", "short", "--role", "king"], { DATA_DIR: dataDir, DATABASE_URL: "" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--email must be an email address");
    expect(bad.stderr).toContain("--password must be at least 8 characters");
    expect(bad.stderr).toContain("--role must be one of viewer, trader, approver, admin");
  });
});

describe("npm run data:import", () => {
  it("imports a CSV, prints one JSON report as the last line, and names bad input", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tf-cli-"));
    const file = join(dataDir, "bars.csv");
    const rows = ["timestamp,open,high,low,close,volume"];
    for (let i = 0; i < 120; i++) rows.push(`2024-03-04 09:${String(30 + (i % 30)).padStart(2, "0")}:00,100,101,99,100.5,${i}`.replace(/09:(\d\d)/, () => `${String(9 + Math.floor((30 + i) / 60)).padStart(2, "0")}:${String((30 + i) % 60).padStart(2, "0")}`));
    rows.push("2024-03-04 11:30:00,100,99,101,100,5"); // high < low
    writeFileSync(file, rows.join("\n") + "\n");
    const env = { DATA_DIR: dataDir, DATABASE_URL: "" };
    const res = run("server/cli/data-import.ts", [file, "--symbol", "NQ", "--timeframe", "1m", "--tz", "America/New_York", "--json"], env);
    expect(res.status, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ symbol: "NQ", timeframe: "1m", rowsRead: 121, stored: 120, quarantined: 1, reasons: { high_below_low: 1 }, first: "2024-03-04T14:30:00.000Z" });
    expect(report.flags.zero_volume).toBe(1);
    const unknown = run("server/cli/data-import.ts", [file, "--symbol", "NOPE", "--timeframe", "1m"], env);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('unknown symbol "NOPE"');
    const tz = run("server/cli/data-import.ts", [file, "--symbol", "NQ", "--timeframe", "1m", "--tz", "Mars/Base"], env);
    expect(tz.stderr).toMatch(/Mars\/Base/);
    const tf = run("server/cli/data-import.ts", [file, "--symbol", "NQ", "--timeframe", "1h"], env);
    expect(tf.stderr).toMatch(/timeframe 1h does not match the timestamps/);
  });
});

describe("start-up with a bad environment", () => {
  it("refuses to start when the web app's port is taken, naming PORT", async () => {
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const res = run("server/cli/start.ts", [], { DATA_DIR: mkdtempSync(join(tmpdir(), "tf-env-")), PORT: String(port), APP_HOST: "127.0.0.1", ENGINE_PORT: String(port === 65535 ? port - 1 : port + 1) });
      expect(res.status).toBe(78);
      expect(res.stderr).toMatch(new RegExp(`PORT: port ${port} on 127.0.0.1 is not available`));
    } finally {
      blocker.close();
    }
  });

  it.each([
    ["server/cli/start.ts", { DATABASE_URL: "not a url" }, "DATABASE_URL"],
    ["engine/main.ts", { DATABASE_URL: "not a url" }, "DATABASE_URL"],
    ["server/cli/start.ts", { ENGINE_PORT: "99999" }, "ENGINE_PORT"],
  ])("%s stops with a message naming %o", (script, env, variable) => {
    const res = run(script, [], { DATA_DIR: mkdtempSync(join(tmpdir(), "tf-env-")), ...env });
    expect(res.status).toBe(78);
    expect(res.stderr).toContain(`${variable}:`);
    expect(res.stderr).toContain("Invalid environment configuration");
  });
});

describe("npm run backtest with a registered model", () => {
  it("backtests --strategy model:<id> on a stored series and refuses a CartPole model with exit code 2", async () => {
    const { builtinCsv } = await import("@/engine/bench/gen");
    const { openSql } = await import("@/engine/store/sql");
    const { saveModel } = await import("@/engine/store/training");
    const { emitMlp } = await import("@/engine/rl/onnx/mlp");
    const { defaultFeatureWidth } = await import("@/engine/rl/model-strategy");
    const dataDir = mkdtempSync(join(tmpdir(), "tf-cli-"));
    const file = join(dataDir, "btc.csv");
    writeFileSync(file, builtinCsv(3000, { seed: 5, start: 40_000, step: 20, tick: 0.1 }));
    const env = { DATA_DIR: dataDir, DATABASE_URL: "" };
    const imp = run("server/cli/data-import.ts", [file, "--symbol", "BTC-PERP", "--timeframe", "1m", "--json"], env);
    expect(imp.status, imp.stderr).toBe(0);
    const sql = openSql(`file:${join(dataDir, "tradeforge.db")}`);
    const obsSize = 4 * defaultFeatureWidth() + 2;
    const weights = (n: number) => Float32Array.from({ length: n }, (_, k) => Math.sin(k * 7.31) * 0.3);
    const common = { runId: null, algo: "ppo", hyperparams: {}, dataSpans: null, seed: 1, metrics: null, codeVersion: "test" };
    try {
      await saveModel(sql, { ...common, id: "cli-model", name: "PPO CLI model", env: "trading", featureSpec: { window: 4, features: "default", actions: "target", contractSize: 0.1 }, onnx: emitMlp({ sizes: [obsSize, 3], activation: "tanh" }, weights(obsSize * 3 + 3)).toBytes() });
      await saveModel(sql, { ...common, id: "cli-cart", name: "PPO CartPole", env: "cartpole", featureSpec: null, onnx: emitMlp({ sizes: [4, 2], activation: "tanh" }, weights(10)).toBytes() });
    } finally {
      await sql.close();
    }
    const ok = run("server/cli/backtest.ts", ["--series", "BTC-PERP:1m", "--strategy", "model:cli-model", "--from", "2020-01-01T12:00", "--no-save", "--json"], env);
    expect(ok.status, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ strategy: "model:cli-model", params: {}, instrument: "BTC-PERP", firstTs: "2020-01-01T12:00:00.000Z" });
    expect(report.fills).toBeGreaterThan(0);
    const cart = run("server/cli/backtest.ts", ["--series", "BTC-PERP:1m", "--strategy", "model:cli-cart", "--no-save", "--json"], env);
    expect(cart.status).toBe(2);
    expect(cart.stderr).toMatch(/strategy: model 'PPO CartPole' \(cli-cart\) was trained on CartPole/);
  }, 120_000);
});
