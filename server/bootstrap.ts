/** First start: when no user exists, create the admin account. */
import { randomBytes } from "node:crypto";
import { hashPassword } from "@/server/auth/password";
import type { UsersRepo } from "@/server/db/users";

export type BootstrapResult =
  | { created: false }
  | { created: true; email: string; generatedPassword?: string };

export async function ensureAdmin(users: UsersRepo, opts: { email?: string; password?: string }): Promise<BootstrapResult> {
  if ((await users.count()) > 0) return { created: false };
  const email = opts.email ?? "admin@tradeforge.local";
  const generatedPassword = opts.password ? undefined : randomBytes(12).toString("base64url");
  try {
    await users.create({ email, passwordHash: await hashPassword(opts.password ?? generatedPassword!), role: "admin", name: "Administrator" });
  } catch (err) {
    // Another process created the first user at the same moment.
    if ((await users.count()) > 0) return { created: false };
    throw err;
  }
  return { created: true, email, generatedPassword };
}
