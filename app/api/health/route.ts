import { getServerDeps } from "@/server/deps";

export const dynamic = "force-dynamic";

/** Public liveness for load balancers and the launcher: app up, database reachable. */
export async function GET() {
  let db: "ok" | "error" = "ok";
  try {
    await getServerDeps().users.count();
  } catch {
    db = "error";
  }
  return Response.json({ status: db === "ok" ? "ok" : "degraded", db, time: new Date().toISOString() }, { status: db === "ok" ? 200 : 503 });
}
