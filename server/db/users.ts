/**
 * User and sign-in repository. Owns Prisma; returns plain objects so that
 * Prisma types never reach React or the engine.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "@/prisma/db";
import { type Role, isRole } from "@/server/auth/roles";

export interface UserRecord {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  disabled: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export interface UserWithHash extends UserRecord {
  passwordHash: string;
}

type Row = { id: string; email: string; name: string | null; role: string; disabled: boolean; createdAt: Date; lastLoginAt: Date | null; passwordHash: string };

function toRecord(row: Row): UserRecord {
  if (!isRole(row.role)) throw new Error(`user ${row.id} has unknown role "${row.role}"`);
  return { id: row.id, email: row.email, name: row.name, role: row.role, disabled: row.disabled, createdAt: row.createdAt, lastLoginAt: row.lastLoginAt };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class DuplicateEmailError extends Error {
  constructor(email: string) {
    super(`a user with email ${email} already exists`);
    this.name = "DuplicateEmailError";
  }
}

export function usersRepo(db: Db) {
  return {
    async count(): Promise<number> {
      return db.user.count();
    },
    async create(input: { email: string; passwordHash: string; role: Role; name?: string | null; createdById?: string | null }): Promise<UserRecord> {
      const email = normaliseEmail(input.email);
      try {
        const row = await db.user.create({
          data: { id: randomUUID(), email, passwordHash: input.passwordHash, role: input.role, name: input.name ?? null, createdById: input.createdById ?? null },
        });
        return toRecord(row);
      } catch (err) {
        if ((err as { code?: string }).code === "P2002") throw new DuplicateEmailError(email);
        throw err;
      }
    },
    async findByEmailWithHash(email: string): Promise<UserWithHash | null> {
      const row = await db.user.findUnique({ where: { email: normaliseEmail(email) } });
      return row ? { ...toRecord(row), passwordHash: row.passwordHash } : null;
    },
    async findById(id: string): Promise<UserRecord | null> {
      const row = await db.user.findUnique({ where: { id } });
      return row ? toRecord(row) : null;
    },
    async list(): Promise<UserRecord[]> {
      const rows = await db.user.findMany({ orderBy: { createdAt: "asc" } });
      return rows.map(toRecord);
    },
    async update(id: string, patch: { disabled?: boolean; role?: Role; passwordHash?: string }): Promise<UserRecord | null> {
      const existing = await db.user.findUnique({ where: { id } });
      if (!existing) return null;
      const row = await db.user.update({ where: { id }, data: patch });
      return toRecord(row);
    },
    async countAdmins(): Promise<number> {
      return db.user.count({ where: { role: "admin", disabled: false } });
    },
    async touchLogin(id: string, at: Date): Promise<void> {
      await db.user.update({ where: { id }, data: { lastLoginAt: at } });
    },
  };
}

export type UsersRepo = ReturnType<typeof usersRepo>;

export function loginAttemptsRepo(db: Db) {
  return {
    async record(a: { email: string; ip: string; success: boolean; reason: string; at: Date }): Promise<void> {
      await db.loginAttempt.create({ data: { email: normaliseEmail(a.email), ip: a.ip, success: a.success, reason: a.reason, createdAt: a.at } });
    },
    /** Failed attempts since `since` for this account or this address, oldest first. */
    async recentFailures(email: string, ip: string, since: Date): Promise<{ byEmail: Date[]; byIp: Date[] }> {
      const where = { success: false, reason: "invalid", createdAt: { gte: since } };
      const [byEmail, byIp] = await Promise.all([
        db.loginAttempt.findMany({ where: { ...where, email: normaliseEmail(email) }, orderBy: { createdAt: "asc" }, select: { createdAt: true } }),
        db.loginAttempt.findMany({ where: { ...where, ip }, orderBy: { createdAt: "asc" }, select: { createdAt: true } }),
      ]);
      return { byEmail: byEmail.map((r) => r.createdAt), byIp: byIp.map((r) => r.createdAt) };
    },
  };
}

export type LoginAttemptsRepo = ReturnType<typeof loginAttemptsRepo>;
