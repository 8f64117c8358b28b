import { getRun } from "@/engine/store/backtests";
import { requireUser } from "@/server/auth/route-guard";
import { renderBacktestHtml } from "@/server/backtest/export-html";
import { getServerDeps } from "@/server/deps";

export const dynamic = "force-dynamic";

/** A file name made of the id's safe characters only (ids are UUIDs; anything else is replaced). */
const fileId = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 100) || "run";

/**
 * A stored backtest as a download: ?format=json (the whole run: configuration,
 * metrics, trades, equity, monthly returns, candles) or ?format=html (a
 * standalone report: inline CSS and SVG, no script, no network). Viewer role.
 */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const guard = await requireUser("viewer");
  if ("response" in guard) return guard.response;
  const { id } = await ctx.params;
  const format = new URL(req.url).searchParams.get("format") ?? "json";
  if (format !== "json" && format !== "html") return Response.json({ error: "format must be json or html" }, { status: 400 });
  const run = await getRun(getServerDeps().sql(), id);
  if (!run) return Response.json({ error: `no backtest ${id}` }, { status: 404 });
  const name = `backtest-${fileId(run.id)}`;
  const common = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
  if (format === "json") {
    return new Response(JSON.stringify(run, null, 2), {
      headers: { ...common, "content-type": "application/json; charset=utf-8", "content-disposition": `attachment; filename="${name}.json"` },
    });
  }
  return new Response(renderBacktestHtml(run), {
    headers: {
      ...common,
      "content-type": "text/html; charset=utf-8",
      "content-disposition": `attachment; filename="${name}.html"`,
      // served from the app's origin too: no script, no network, even if opened inline
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    },
  });
}
