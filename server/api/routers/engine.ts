import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, roleProcedure } from "@/server/api/trpc";
import { EngineUnavailableError, engineClient } from "@/server/engine-client";

function client(ctx: { deps: { env: { engineUrl: string }; engineSecret: string } }) {
  return engineClient(ctx.deps.env.engineUrl, ctx.deps.engineSecret);
}

export const engineRouter = createTRPCRouter({
  /** Engine reachability and identity, for the status badge. */
  status: roleProcedure("viewer").query(async ({ ctx }) => {
    try {
      return { online: true as const, ...(await client(ctx).health()) };
    } catch (err) {
      if (err instanceof EngineUnavailableError) return { online: false as const, error: err.message };
      throw err;
    }
  }),

  /** Sends a command to the engine's command endpoint. Admin only for now. */
  command: roleProcedure("admin")
    .input(z.discriminatedUnion("type", [z.object({ type: z.literal("ping"), nonce: z.string().max(200).optional() }), z.object({ type: z.literal("status") })]))
    .mutation(async ({ ctx, input }) => {
      try {
        const res = await client(ctx).command(input);
        if (res.status !== 200) throw new TRPCError({ code: "BAD_GATEWAY", message: `engine refused the command (HTTP ${res.status})` });
        return res.body as Record<string, unknown>;
      } catch (err) {
        if (err instanceof EngineUnavailableError) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "Engine offline." });
        throw err;
      }
    }),
});
