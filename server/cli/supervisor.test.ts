import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Supervisor } from "./supervisor";

const waitFor = async (pred: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("Supervisor", () => {
  it("restarts a child that dies, with growing backoff", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-sup-"));
    const counter = join(dir, "count");
    writeFileSync(counter, "0");
    // Each run bumps the counter and crashes.
    const script = `const fs=require("fs");const f=${JSON.stringify(counter)};fs.writeFileSync(f,String(Number(fs.readFileSync(f,"utf8"))+1));process.exit(1);`;
    const logs: string[] = [];
    const sup = new Supervisor({ name: "crasher", command: process.execPath, args: ["-e", script], env: process.env, minBackoffMs: 20, maxBackoffMs: 80, log: (m) => logs.push(m) });
    sup.start();
    await waitFor(() => Number(readFileSync(counter, "utf8")) >= 4);
    await sup.stop();
    expect(sup.restarts).toBeGreaterThanOrEqual(3);
    expect(logs[0]).toMatch(/crasher exited \(code 1\); restarting in 20 ms/);
    expect(logs[1]).toMatch(/restarting in 40 ms/);
    expect(logs[2]).toMatch(/restarting in 80 ms/);
    expect(logs[3] ?? "restarting in 80 ms").toMatch(/restarting in 80 ms/); // capped
  });

  it("does not restart on a fatal configuration exit code", async () => {
    const logs: string[] = [];
    let fatal: number | undefined;
    const sup = new Supervisor({ name: "badconf", command: process.execPath, args: ["-e", "process.exit(78)"], env: process.env, fatalCodes: [78], minBackoffMs: 10, log: (m) => logs.push(m), onFatal: (c) => (fatal = c) });
    sup.start();
    await waitFor(() => fatal !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(fatal).toBe(78);
    expect(sup.restarts).toBe(0);
    expect(logs.join("\n")).toMatch(/configuration error/);
  });

  it("stops a running child with SIGTERM and does not restart it", async () => {
    const sup = new Supervisor({ name: "sleeper", command: process.execPath, args: ["-e", "setInterval(()=>{},1000)"], env: process.env, minBackoffMs: 10, log: () => undefined });
    sup.start();
    await waitFor(() => sup.pid !== undefined);
    await sup.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(sup.pid).toBeUndefined();
    expect(sup.restarts).toBe(0);
  });
});
