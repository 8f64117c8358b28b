import { requireUser } from "@/server/auth/route-guard";
import { getServerDeps } from "@/server/deps";

export const dynamic = "force-dynamic";

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Quarantined rows as CSV: ?importId=…&symbol=…&reason=… (any combination). */
export async function GET(req: Request) {
  const guard = await requireUser("viewer");
  if ("response" in guard) return guard.response;
  const q = new URL(req.url).searchParams;
  const where: string[] = [];
  const params: unknown[] = [];
  for (const key of ["importId", "symbol", "reason"] as const) {
    const v = q.get(key);
    if (v) (where.push(`"${key}" = ?`), params.push(v));
  }
  const sql = getServerDeps().sql();
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode("import_id,symbol,line,reason,detail,raw\n"));
      let after = 0;
      for (;;) {
        const rows = await sql.all<{ id: number; importId: string; symbol: string; line: number; raw: string; reason: string; detail: string }>(
          `SELECT "id","importId","symbol","line","raw","reason","detail" FROM "QuarantineRow" WHERE "id" > ?${where.length ? " AND " + where.join(" AND ") : ""} ORDER BY "id" LIMIT 5000`,
          [after, ...params],
        );
        if (rows.length === 0) break;
        controller.enqueue(encoder.encode(rows.map((r) => [r.importId, r.symbol, String(r.line), r.reason, r.detail, r.raw].map(csvField).join(",")).join("\n") + "\n"));
        after = Number(rows[rows.length - 1]!.id);
      }
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="quarantine${q.get("symbol") ? "-" + q.get("symbol") : ""}.csv"` } });
}
