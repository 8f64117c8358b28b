/** Session and role check for route handlers (tRPC has its own in server/api/trpc.ts). */
import { auth } from "@/server/auth";
import { type Role, hasRole } from "@/server/auth/roles";
import type { UserRecord } from "@/server/db/users";
import { getServerDeps } from "@/server/deps";

export async function requireUser(role: Role): Promise<{ user: UserRecord } | { response: Response }> {
  const session = await auth();
  const user = session?.user?.id ? await getServerDeps().users.findById(session.user.id) : null;
  if (!user || user.disabled) return { response: Response.json({ error: "unauthorized: sign in first" }, { status: 401 }) };
  if (!hasRole(user.role, role)) return { response: Response.json({ error: `forbidden: this needs the ${role} role` }, { status: 403 }) };
  return { user };
}
