import { timingSafeEqual, createHash } from "node:crypto";
import { auth } from "@/server/auth";
import { getServerDeps } from "@/server/deps";
import { registry } from "@/server/metrics";

export const dynamic = "force-dynamic";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Prometheus metrics of the web app process. Readable with a signed-in session,
 * or by a scraper sending "Authorization: Bearer $METRICS_TOKEN" when that is set.
 */
export async function GET(req: Request) {
  const { env, users } = getServerDeps();
  const header = req.headers.get("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  let allowed = env.metricsToken !== undefined && token !== "" && timingSafeEqual(digest(token), digest(env.metricsToken));
  if (!allowed) {
    const session = await auth();
    const user = session?.user?.id ? await users.findById(session.user.id) : null;
    allowed = !!user && !user.disabled;
  }
  if (!allowed) return Response.json({ error: "unauthorized: sign in or send the METRICS_TOKEN bearer token" }, { status: 401 });
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
}
