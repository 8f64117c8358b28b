import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "@/engine/runtime/env";
import { ensureBuiltinInstruments } from "@/engine/store/instruments";
import { createCaller } from "@/server/api/root";
import { createContextInner } from "@/server/api/trpc";
import type { Role } from "@/server/auth/roles";
import { type ServerDeps, createServerDeps } from "@/server/deps";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

function cmeMinutes(n: number): string {
  // Monday 2024-03-04 from 09:30 New York (14:30 UTC), inside the CME session.
  const rows = ["timestamp,open,high,low,close,volume"];
  for (let i = 0; i < n; i++) {
    const o = 18000 + (i % 10) * 0.25;
    rows.push(`${new Date(Date.UTC(2024, 2, 4, 14, 30) + i * 60_000).toISOString()},${o},${o + 1},${o - 1},${o + 0.5},${i + 1}`);
  }
  return rows.join("\n") + "\n";
}

describe.each(databaseKinds())("market router on %s", (kind) => {
  let t: TestDatabase;
  let deps: ServerDeps;
  const ids: Partial<Record<Role, string>> = {};
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    deps = createServerDeps(loadEnv({ DATABASE_URL: t.url, DATA_DIR: "/tmp/tf-market-test", ENGINE_SECRET: "x".repeat(40) }), t.db);
    await ensureBuiltinInstruments(deps.sql());
    for (const role of ["viewer", "trader"] as const) ids[role] = (await deps.users.create({ email: `${role}@m.example.com`, passwordHash: "x", role })).id;
  });
  afterAll(async () => {
    await deps.sql().close();
    await t.dispose();
  });
  const as = async (role: Role | null) => createCaller(await createContextInner(deps, role ? ids[role] : null));

  it("needs a session, and the trader role to change anything", async () => {
    expect(await code((await as(null)).market.instruments())).toBe("UNAUTHORIZED");
    const viewer = await as("viewer");
    expect((await viewer.market.instruments()).map((i) => i.symbol)).toEqual(expect.arrayContaining(["NQ", "MNQ", "ES", "MES", "6E", "BTCUSDT", "BTC-PERP"]));
    expect(await code(viewer.market.importCsv({ symbol: "NQ", timeframe: "1m", csv: cmeMinutes(3) }))).toBe("FORBIDDEN");
    expect(await code(viewer.market.saveInstrument({ symbol: "CL", name: "Crude", kind: "future", tickSize: 0.01, pointValue: 1000, currency: "USD", commission: 2, commissionType: "per_contract", calendar: "cme-globex" }))).toBe("FORBIDDEN");
  });

  it("adds and edits instruments with field errors for bad values", async () => {
    const trader = await as("trader");
    const cl = await trader.market.saveInstrument({ symbol: "cl", name: "Crude oil futures", kind: "future", tickSize: 0.01, pointValue: 1000, currency: "usd", commission: 2.1, commissionType: "per_contract", calendar: "cme-globex" });
    expect(cl).toMatchObject({ symbol: "CL", currency: "USD", builtin: false });
    await trader.market.saveInstrument({ ...cl, name: "WTI crude oil" });
    expect((await trader.market.instruments()).find((i) => i.symbol === "CL")?.name).toBe("WTI crude oil");
    expect(await code(trader.market.saveInstrument({ ...cl, tickSize: -1 }))).toBe("BAD_REQUEST");
  });

  it("imports through tRPC, reports coverage, serves stored and resampled bars, and pages the quarantine", async () => {
    const trader = await as("trader");
    const bad = "2024-03-04T16:30:00.000Z,1,0.5,2,1,1\n";
    const report = await trader.market.importCsv({ symbol: "nq", timeframe: "1m", timeZone: "UTC", fileName: "nq.csv", csv: cmeMinutes(120) + bad });
    expect(report).toMatchObject({ symbol: "NQ", rowsRead: 121, stored: 120, quarantined: 1, reasons: { high_below_low: 1 } });
    expect(await code(trader.market.importCsv({ symbol: "NQ", timeframe: "1m", csv: "a,b\n1,2\n" }))).toBe("BAD_REQUEST");
    expect(await code(trader.market.importCsv({ symbol: "ZZZ", timeframe: "1m", csv: cmeMinutes(3) }))).toBe("BAD_REQUEST");

    const nq = (await trader.market.instruments()).find((i) => i.symbol === "NQ")!;
    expect(nq.quarantined).toBe(1);
    expect(nq.series).toEqual([expect.objectContaining({ timeframe: "1m", count: 120, first: Date.UTC(2024, 2, 4, 14, 30), gaps: { count: 0, missingBars: 0 } })]);

    const m1 = await trader.market.bars({ symbol: "NQ", timeframe: "1m", limit: 10 });
    expect(m1).toMatchObject({ source: "1m", resampled: false, total: 120 });
    expect(m1.t).toHaveLength(10);
    expect(m1.t.at(-1)).toBe(Date.UTC(2024, 2, 4, 16, 29));
    const h1 = await trader.market.bars({ symbol: "NQ", timeframe: "1h" });
    // The CME session starts at 17:00 Chicago (22:00 UTC in March before DST), so hours are anchored at :00.
    expect(h1).toMatchObject({ source: "1m", resampled: true });
    expect(h1.t).toEqual([Date.UTC(2024, 2, 4, 14), Date.UTC(2024, 2, 4, 15), Date.UTC(2024, 2, 4, 16)]);
    expect(h1.v.reduce((a, b) => a + b, 0)).toBe((120 * 121) / 2);
    expect(await trader.market.bars({ symbol: "ES", timeframe: "1m" })).toMatchObject({ source: null, t: [] });

    const imports = await trader.market.imports({ symbol: "NQ" });
    expect(imports[0]).toMatchObject({ fileName: "nq.csv", rowsRead: 121, quarantined: 1 });
    const page = await trader.market.quarantine({ importId: imports[0]!.id, limit: 1 });
    expect(page.rows).toEqual([expect.objectContaining({ line: 122, reason: "high_below_low", raw: bad.trim() })]);
    expect(page.nextAfterId).toBeNull();
  });
});
