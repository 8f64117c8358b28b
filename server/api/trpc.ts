/**
 * tRPC building blocks. Every procedure except login (handled by Auth.js) and
 * health requires a session; role procedures also check the role, read fresh
 * from the database on each request so that disabling a user or changing a
 * role takes effect at once. Zod input errors are flattened to field errors.
 */
import { TRPCError, initTRPC } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import { type Role, hasRole } from "@/server/auth/roles";
import type { UserRecord } from "@/server/db/users";
import type { ServerDeps } from "@/server/deps";

export interface Context {
  deps: ServerDeps;
  /** The signed-in, enabled user; null without a valid session. */
  user: UserRecord | null;
}

/** Resolves a session's user id to an enabled user (null when missing or disabled). */
export async function createContextInner(deps: ServerDeps, sessionUserId: string | null | undefined): Promise<Context> {
  if (!sessionUserId) return { deps, user: null };
  const user = await deps.users.findById(sessionUserId);
  return { deps, user: user && !user.disabled ? user : null };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        zodError: error.code === "BAD_REQUEST" && error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
        /** The input field a refusal is about, when the refusing code named one (e.g. "params.fast"). */
        field: error.cause && typeof (error.cause as { field?: unknown }).field === "string" ? (error.cause as unknown as { field: string }).field : null,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

export const publicProcedure = t.procedure;

export const protectedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export function roleProcedure(role: Role) {
  return protectedProcedure.use(({ ctx, next }) => {
    if (!hasRole(ctx.user.role, role)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${role} role; you are ${ctx.user.role}.` });
    }
    return next();
  });
}
