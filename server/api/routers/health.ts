import { createTRPCRouter, publicProcedure } from "@/server/api/trpc";

export const healthRouter = createTRPCRouter({
  /** Public: is the app up and can it reach its database? Reveals nothing else. */
  check: publicProcedure.query(async ({ ctx }) => {
    let db: "ok" | "error" = "ok";
    try {
      await ctx.deps.users.count();
    } catch {
      db = "error";
    }
    return { status: db === "ok" ? ("ok" as const) : ("degraded" as const), db, time: new Date() };
  }),
});
