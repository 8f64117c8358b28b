import { z } from "zod";
import { TICK_TIMEFRAMES, type ImportReport } from "@/engine/store/importer";
import { TIMEFRAMES } from "@/engine/data/types";
import { requireUser } from "@/server/auth/route-guard";
import { getServerDeps } from "@/server/deps";
import { reportToJson } from "@/server/market/report";

export const dynamic = "force-dynamic";

const params = z.object({
  symbol: z.string().trim().min(1, "symbol is required").transform((s) => s.toUpperCase()),
  timeframe: z.enum([...TIMEFRAMES, ...TICK_TIMEFRAMES], { message: `timeframe must be one of ${[...TIMEFRAMES, ...TICK_TIMEFRAMES].join(", ")}` }),
  tz: z.string().trim().min(1).default("UTC"),
  fileName: z.string().trim().min(1).max(255).default("upload.csv"),
});

/**
 * Upload a CSV (plain or .gz) as the raw request body; query: symbol, timeframe, tz, fileName.
 * The body streams on to the engine's POST /import, which imports it as it arrives
 * (bounded memory, one transaction) and publishes progress on the event stream.
 */
export async function POST(req: Request) {
  const guard = await requireUser("trader");
  if ("response" in guard) return guard.response;
  const parsed = params.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) return Response.json({ error: "invalid upload parameters", fieldErrors: z.flattenError(parsed.error).fieldErrors }, { status: 400 });
  if (!req.body) return Response.json({ error: "the request has no file body" }, { status: 400 });
  const { env, engineSecret } = getServerDeps();
  const q = new URLSearchParams({ ...parsed.data, uploadId: crypto.randomUUID(), userId: guard.user.id });
  const length = req.headers.get("content-length");
  let res: Response;
  try {
    res = await fetch(`${env.engineUrl}/import?${q}`, {
      method: "POST",
      headers: { authorization: `Bearer ${engineSecret}`, "content-type": "text/csv", ...(length ? { "x-upload-length": length } : {}) },
      body: req.body,
      signal: req.signal,
      // Stream the upload through instead of buffering it.
      duplex: "half",
    } as RequestInit & { duplex: "half" });
  } catch {
    if (req.signal.aborted) return Response.json({ error: "upload cancelled; nothing was stored" }, { status: 499 });
    return Response.json({ error: "Engine offline: imports run in the engine. Nothing was stored." }, { status: 503 });
  }
  const body = (await res.json()) as ImportReport | { error: string; fieldErrors?: Record<string, string[]> };
  if (!res.ok || "error" in body) return Response.json(body, { status: res.status === 200 ? 500 : res.status });
  return Response.json(reportToJson(body));
}
