import { auth } from "@/server/auth";
import { getServerDeps } from "@/server/deps";
import { streamClients } from "@/server/metrics";
import { createRelayStream } from "@/server/stream/relay";

export const dynamic = "force-dynamic";

/** The engine's event stream, relayed to signed-in browsers. Resumes from Last-Event-ID. */
export async function GET(req: Request) {
  const session = await auth();
  const deps = getServerDeps();
  const user = session?.user?.id ? await deps.users.findById(session.user.id) : null;
  if (!user || user.disabled) {
    return Response.json({ error: "unauthorized: sign in to read the event stream" }, { status: 401 });
  }
  streamClients.inc();
  req.signal.addEventListener("abort", () => streamClients.dec(), { once: true });
  const typesParam = new URL(req.url).searchParams.get("types");
  if (typesParam !== null && !/^[a-z.]+(,[a-z.]+)*$/.test(typesParam)) {
    return Response.json({ error: "types must be a comma-separated list of event types, e.g. heartbeat,replay." }, { status: 400 });
  }
  const body = createRelayStream({
    types: typesParam ? typesParam.split(",") : undefined,
    engineUrl: deps.env.engineUrl,
    secret: deps.engineSecret,
    lastEventId: req.headers.get("last-event-id") ?? new URL(req.url).searchParams.get("lastEventId"),
    signal: req.signal,
    initialBacklog: 300, // e.g. the dashboard's five-minute sparkline
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store, no-transform", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}
