import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createContextInner } from "@/server/api/trpc";
import { auth } from "@/server/auth";
import { getServerDeps } from "@/server/deps";
import { httpRequests } from "@/server/metrics";

export const dynamic = "force-dynamic";

function handler(req: Request) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: async () => {
      const session = await auth();
      return createContextInner(getServerDeps(), session?.user?.id);
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`[trpc] ${path ?? "?"}: ${error.message}`);
    },
    responseMeta({ errors, paths }) {
      const code = errors[0]?.code;
      httpRequests.inc({ route: `trpc:${paths?.join(",") ?? "?"}`, status: code ?? "OK" });
      return {};
    },
  });
}

export { handler as GET, handler as POST };
