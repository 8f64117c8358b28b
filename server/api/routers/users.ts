import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, protectedProcedure, roleProcedure } from "@/server/api/trpc";
import { hashPassword, passwordRules, verifyPassword } from "@/server/auth/password";
import { ROLES } from "@/server/auth/roles";
import { DuplicateEmailError } from "@/server/db/users";

const roleSchema = z.enum(ROLES);
const newPassword = z.string().min(passwordRules.min, `Use at least ${passwordRules.min} characters.`).max(passwordRules.max);

export const usersRouter = createTRPCRouter({
  me: protectedProcedure.query(({ ctx }) => ctx.user),

  /** Any signed-in user changes their own password, proving the current one. */
  changePassword: protectedProcedure
    .input(z.object({ currentPassword: z.string().min(1, "Enter your current password."), newPassword }))
    .mutation(async ({ ctx, input }) => {
      const me = await ctx.deps.users.findByEmailWithHash(ctx.user.email);
      if (!me || !(await verifyPassword(input.currentPassword, me.passwordHash))) {
        throw new TRPCError({ code: "BAD_REQUEST", message: "The current password is wrong." });
      }
      await ctx.deps.users.update(ctx.user.id, { passwordHash: await hashPassword(input.newPassword) });
      return { ok: true as const };
    }),

  /** Admins set a new password for someone who lost theirs. */
  resetPassword: roleProcedure("admin")
    .input(z.object({ id: z.string().min(1), newPassword }))
    .mutation(async ({ ctx, input }) => {
      const updated = await ctx.deps.users.update(input.id, { passwordHash: await hashPassword(input.newPassword) });
      if (!updated) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
      return updated;
    }),

  list: roleProcedure("admin").query(({ ctx }) => ctx.deps.users.list()),

  create: roleProcedure("admin")
    .input(
      z.object({
        email: z.email({ message: "Enter a valid email address." }),
        password: z.string().min(passwordRules.min, `Use at least ${passwordRules.min} characters.`).max(passwordRules.max),
        role: roleSchema,
        name: z.string().trim().max(100).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      try {
        return await ctx.deps.users.create({
          email: input.email,
          passwordHash: await hashPassword(input.password),
          role: input.role,
          name: input.name || null,
          createdById: ctx.user.id,
        });
      } catch (err) {
        if (err instanceof DuplicateEmailError) throw new TRPCError({ code: "CONFLICT", message: err.message });
        throw err;
      }
    }),

  setDisabled: roleProcedure("admin")
    .input(z.object({ id: z.string().min(1), disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      if (input.disabled && input.id === ctx.user.id) throw new TRPCError({ code: "BAD_REQUEST", message: "You cannot disable your own account." });
      const target = await ctx.deps.users.findById(input.id);
      if (!target) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
      if (input.disabled && target.role === "admin" && !target.disabled && (await ctx.deps.users.countAdmins()) <= 1) {
        throw new TRPCError({ code: "BAD_REQUEST", message: "The last enabled admin cannot be disabled." });
      }
      return ctx.deps.users.update(input.id, { disabled: input.disabled });
    }),

  setRole: roleProcedure("admin")
    .input(z.object({ id: z.string().min(1), role: roleSchema }))
    .mutation(async ({ ctx, input }) => {
      const target = await ctx.deps.users.findById(input.id);
      if (!target) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
      if (target.role === "admin" && input.role !== "admin" && !target.disabled && (await ctx.deps.users.countAdmins()) <= 1) {
        throw new TRPCError({ code: "BAD_REQUEST", message: "The last enabled admin must keep the admin role." });
      }
      return ctx.deps.users.update(input.id, { role: input.role });
    }),
});
