/**
 * Credential check with throttling, independent of Auth.js so it can be tested
 * directly. After 5 failed attempts for one account or from one address within
 * 15 minutes, further attempts are refused until the oldest of those failures
 * leaves the window. Unknown accounts and wrong passwords get the same answer
 * and take the same time.
 */
import type { LoginAttemptsRepo, UserRecord, UsersRepo } from "@/server/db/users";
import { dummyPasswordHash, verifyPassword } from "./password";

export const THROTTLE = { maxFailures: 5, windowMs: 15 * 60 * 1000 } as const;

export type AuthResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "disabled" }
  | { ok: false; reason: "throttled"; retryAfterS: number };

export interface AuthDeps {
  users: UsersRepo;
  attempts: LoginAttemptsRepo;
  now?: () => Date;
}

function retryAfterMs(failures: Date[], now: number): number {
  if (failures.length < THROTTLE.maxFailures) return 0;
  // The attempt that must expire for the count to fall below the limit.
  const pivot = failures[failures.length - THROTTLE.maxFailures];
  return pivot ? Math.max(0, pivot.getTime() + THROTTLE.windowMs - now) : 0;
}

export async function authenticate(deps: AuthDeps, input: { email: string; password: string; ip: string }): Promise<AuthResult> {
  const now = (deps.now ?? (() => new Date()))();
  const since = new Date(now.getTime() - THROTTLE.windowMs);
  const failures = await deps.attempts.recentFailures(input.email, input.ip, since);
  const wait = Math.max(retryAfterMs(failures.byEmail, now.getTime()), retryAfterMs(failures.byIp, now.getTime()));
  if (wait > 0) {
    await deps.attempts.record({ email: input.email, ip: input.ip, success: false, reason: "throttled", at: now });
    return { ok: false, reason: "throttled", retryAfterS: Math.ceil(wait / 1000) };
  }
  const user = await deps.users.findByEmailWithHash(input.email);
  const valid = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !valid) {
    await deps.attempts.record({ email: input.email, ip: input.ip, success: false, reason: "invalid", at: now });
    return { ok: false, reason: "invalid" };
  }
  if (user.disabled) {
    await deps.attempts.record({ email: input.email, ip: input.ip, success: false, reason: "disabled", at: now });
    return { ok: false, reason: "disabled" };
  }
  await deps.attempts.record({ email: input.email, ip: input.ip, success: true, reason: "ok", at: now });
  await deps.users.touchLogin(user.id, now);
  const { passwordHash: _omit, ...record } = user;
  return { ok: true, user: record };
}

export function authErrorMessage(code: string | undefined): string {
  if (code?.startsWith("throttled")) {
    const seconds = Number(code.split(":")[1] ?? "900");
    const minutes = Math.max(1, Math.ceil(seconds / 60));
    return `Too many failed sign-in attempts. Sign-in is paused for this account or address; try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  }
  if (code === "disabled") return "This account has been disabled. Ask an administrator to re-enable it.";
  return "Wrong email or password.";
}
