"use server";
import { AuthError } from "next-auth";
import { z } from "zod";
import { signIn, signOut } from "@/server/auth";
import { authErrorMessage } from "@/server/auth/authenticate";

export interface LoginState {
  error?: string;
  fieldErrors?: { email?: string[]; password?: string[] };
  email?: string;
}

const loginSchema = z.object({
  email: z.string().trim().min(1, "Enter the email address of your account.").max(320),
  password: z.string().min(1, "Enter your password."),
  next: z.string().optional(),
});

/** Only same-site paths are allowed as the place to go after signing in. */
function safeNext(next: string | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export async function login(_prev: LoginState, form: FormData): Promise<LoginState> {
  const parsed = loginSchema.safeParse({ email: form.get("email"), password: form.get("password"), next: form.get("next") ?? undefined });
  const email = String(form.get("email") ?? "");
  if (!parsed.success) return { fieldErrors: z.flattenError(parsed.error).fieldErrors, email };
  try {
    await signIn("credentials", { email: parsed.data.email, password: parsed.data.password, redirectTo: safeNext(parsed.data.next) });
  } catch (err) {
    if (err instanceof AuthError) {
      const code = err.type === "CredentialsSignin" ? (err as AuthError & { code?: string }).code : undefined;
      return { error: authErrorMessage(code), email };
    }
    throw err; // Next's redirect after a successful sign-in
  }
  return {};
}

export async function logout(): Promise<void> {
  await signOut({ redirectTo: "/login" });
}
