/**
 * Auth.js (next-auth 5) with email + password credentials and JWT sessions.
 * The throttle and password check live in ./authenticate.ts; this file only
 * wires them into Auth.js and carries the user id and role in the token.
 */
import NextAuth, { CredentialsSignin, type DefaultSession } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { resolveSecret } from "@/engine/runtime/env";
import { getServerDeps } from "@/server/deps";
import { authenticate } from "./authenticate";
import type { Role } from "./roles";

declare module "next-auth" {
  interface Session {
    user: { id: string; role: Role } & DefaultSession["user"];
  }
  interface User {
    role?: Role;
  }
}

class SignInRefused extends CredentialsSignin {
  constructor(code: string) {
    super();
    this.code = code;
  }
}

const credentialsSchema = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(200) });

export function clientIp(headers: Headers): string {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip") || "unknown";
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const deps = getServerDeps();
  return {
    secret: resolveSecret("auth", deps.env.dataDir),
    trustHost: true,
    session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
    pages: { signIn: "/login" },
    logger: {
      // Auth.js logs a CredentialsSignin as an error with a stack; a wrong password is not one.
      error(error) {
        if ((error as { type?: string }).type === "CredentialsSignin") return;
        console.error(`[auth] ${error.name}: ${error.message}`);
      },
    },
    providers: [
      Credentials({
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(raw, request) {
          const parsed = credentialsSchema.safeParse(raw);
          if (!parsed.success) throw new SignInRefused("invalid");
          const result = await authenticate(deps, { ...parsed.data, ip: clientIp(request.headers) });
          if (result.ok) return { id: result.user.id, email: result.user.email, name: result.user.name ?? result.user.email, role: result.user.role };
          if (result.reason === "throttled") throw new SignInRefused(`throttled:${result.retryAfterS}`);
          throw new SignInRefused(result.reason);
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.uid = user.id;
          token.role = user.role;
        }
        return token;
      },
      session({ session, token }) {
        session.user.id = String(token.uid ?? "");
        session.user.role = (token.role as Role | undefined) ?? "viewer";
        return session;
      },
    },
  };
});
