"use client";
import { useActionState } from "react";
import { type LoginState, login } from "@/app/actions";

export function LoginForm({ next }: { next?: string }) {
  const [state, action, pending] = useActionState<LoginState, FormData>(login, {});
  return (
    <form action={action} className="space-y-4" noValidate>
      {next ? <input type="hidden" name="next" value={next} /> : null}
      <label className="block">
        <span className="text-xs uppercase tracking-wide text-dim">Email</span>
        <input
          name="email"
          type="email"
          autoComplete="username"
          defaultValue={state.email}
          required
          className="mt-1 w-full rounded-sm border border-line bg-bg px-3 py-2 outline-none focus:border-accent"
        />
        {state.fieldErrors?.email ? <span className="mt-1 block text-xs text-bad">{state.fieldErrors.email[0]}</span> : null}
      </label>
      <label className="block">
        <span className="text-xs uppercase tracking-wide text-dim">Password</span>
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          className="mt-1 w-full rounded-sm border border-line bg-bg px-3 py-2 outline-none focus:border-accent"
        />
        {state.fieldErrors?.password ? <span className="mt-1 block text-xs text-bad">{state.fieldErrors.password[0]}</span> : null}
      </label>
      {state.error ? (
        <p role="alert" data-testid="login-error" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
          {state.error}
        </p>
      ) : null}
      <button
        type="submit"
        disabled={pending}
        className="w-full rounded-sm bg-accent px-3 py-2 font-medium text-bg hover:brightness-110 disabled:opacity-60"
      >
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
