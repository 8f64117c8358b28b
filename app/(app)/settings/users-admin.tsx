"use client";
import { useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { ROLES, type Role } from "@/server/auth/roles";

const input = "w-full rounded-sm border border-line bg-bg px-2 py-1.5 text-sm outline-none focus:border-accent";

export function UsersAdmin() {
  const me = trpc.users.me.useQuery();
  if (me.isLoading) return <p className="text-sm text-dim">Loading…</p>;
  if (!me.data) return <p className="text-sm text-bad">{me.error?.message ?? "Could not load your account."}</p>;
  return (
    <>
      <section className="border border-line bg-panel p-4">
        <h2 className="text-sm font-semibold">Your account</h2>
        <p className="num mt-2 text-sm">{me.data.email} · {me.data.role}</p>
        <ChangePassword />
      </section>
      {me.data.role === "admin" ? (
        <UserManagement meId={me.data.id} />
      ) : (
        <p className="text-sm text-dim">User management needs the admin role.</p>
      )}
    </>
  );
}

function ChangePassword() {
  const [form, setForm] = useState({ currentPassword: "", newPassword: "" });
  const change = trpc.users.changePassword.useMutation({ onSuccess: () => setForm({ currentPassword: "", newPassword: "" }) });
  const fieldErrors = change.error?.data?.zodError?.fieldErrors as Record<string, string[] | undefined> | undefined;
  return (
    <form
      className="mt-4 grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end"
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate(form);
      }}
    >
      <label className="block text-xs text-dim">
        Current password
        <input aria-label="Current password" className={input} type="password" autoComplete="current-password" value={form.currentPassword} onChange={(e) => setForm({ ...form, currentPassword: e.target.value })} />
        {fieldErrors?.currentPassword ? <span className="text-bad">{fieldErrors.currentPassword[0]}</span> : null}
      </label>
      <label className="block text-xs text-dim">
        New password
        <input aria-label="New password" className={input} type="password" autoComplete="new-password" value={form.newPassword} onChange={(e) => setForm({ ...form, newPassword: e.target.value })} />
        {fieldErrors?.newPassword ? <span className="text-bad">{fieldErrors.newPassword[0]}</span> : null}
      </label>
      <button type="submit" disabled={change.isPending} className="rounded-sm border border-line px-3 py-1.5 text-sm hover:border-accent disabled:opacity-60">
        Change password
      </button>
      {change.error && !fieldErrors ? <p className="text-xs text-bad sm:col-span-3">{change.error.message}</p> : null}
      {change.isSuccess ? <p className="text-xs text-accent sm:col-span-3">Password changed.</p> : null}
    </form>
  );
}

function UserManagement({ meId }: { meId: string }) {
  const utils = trpc.useUtils();
  const list = trpc.users.list.useQuery();
  const [form, setForm] = useState({ email: "", password: "", role: "viewer" as Role });
  const [notice, setNotice] = useState<string | null>(null);
  const create = trpc.users.create.useMutation({
    onSuccess: (u) => {
      setNotice(`Created ${u.email} (${u.role}).`);
      setForm({ email: "", password: "", role: "viewer" });
      void utils.users.list.invalidate();
    },
  });
  const setDisabled = trpc.users.setDisabled.useMutation({ onSuccess: () => utils.users.list.invalidate() });
  const setRole = trpc.users.setRole.useMutation({ onSuccess: () => utils.users.list.invalidate() });
  const resetPassword = trpc.users.resetPassword.useMutation({ onSuccess: (u) => setNotice(`New password set for ${u.email}.`) });
  const fieldErrors = create.error?.data?.zodError?.fieldErrors as Record<string, string[] | undefined> | undefined;
  const rowError = setDisabled.error?.message ?? setRole.error?.message ?? (resetPassword.error?.data?.zodError?.fieldErrors as Record<string, string[] | undefined> | undefined)?.newPassword?.[0] ?? resetPassword.error?.message;

  return (
    <section className="border border-line bg-panel">
      <h2 className="border-b border-line px-4 py-3 text-sm font-semibold">Users</h2>
      <form
        className="grid gap-3 border-b border-line p-4 sm:grid-cols-[1fr_1fr_auto_auto] sm:items-end"
        onSubmit={(e) => {
          e.preventDefault();
          setNotice(null);
          create.mutate(form);
        }}
      >
        <label className="block text-xs text-dim">
          Email
          <input aria-label="New user email" className={input} type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
          {fieldErrors?.email ? <span className="text-bad">{fieldErrors.email[0]}</span> : null}
        </label>
        <label className="block text-xs text-dim">
          Password
          <input aria-label="New user password" className={input} type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
          {fieldErrors?.password ? <span className="text-bad">{fieldErrors.password[0]}</span> : null}
        </label>
        <label className="block text-xs text-dim">
          Role
          <select aria-label="New user role" className={input} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending} className="rounded-sm bg-accent px-3 py-1.5 text-sm font-medium text-bg disabled:opacity-60">
          Create user
        </button>
        {create.error && !fieldErrors ? <p className="text-xs text-bad sm:col-span-4">{create.error.message}</p> : null}
        {notice ? <p className="text-xs text-accent sm:col-span-4">{notice}</p> : null}
      </form>
      {rowError ? <p className="px-4 pt-3 text-xs text-bad">{rowError}</p> : null}
      <div className="overflow-x-auto">
        <table className="w-full text-sm">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className="px-4 py-2 font-normal">Email</th>
              <th className="px-4 py-2 font-normal">Role</th>
              <th className="px-4 py-2 font-normal">Status</th>
              <th className="px-4 py-2 font-normal">Last sign-in</th>
              <th className="px-4 py-2" />
            </tr>
          </thead>
          <tbody>
            {list.data?.map((u) => (
              <tr key={u.id} className="border-t border-line" data-testid={`user-row-${u.email}`}>
                <td className="px-4 py-2">{u.email}{u.id === meId ? <span className="text-dim"> (you)</span> : null}</td>
                <td className="px-4 py-2">
                  <select aria-label={`Role of ${u.email}`} className="rounded-sm border border-line bg-bg px-1 py-0.5 text-xs" value={u.role} onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as Role })}>
                    {ROLES.map((r) => (
                      <option key={r} value={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td className={`px-4 py-2 text-xs ${u.disabled ? "text-bad" : "text-accent"}`}>{u.disabled ? "disabled" : "active"}</td>
                <td className="num px-4 py-2 text-xs text-dim">{u.lastLoginAt ? new Date(u.lastLoginAt).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never"}</td>
                <td className="px-4 py-2 text-right">
                  {u.id !== meId ? (
                    <span className="inline-flex gap-1">
                      <button
                        type="button"
                        className="rounded-sm border border-line px-2 py-0.5 text-xs text-dim hover:text-fg"
                        onClick={() => {
                          const pw = window.prompt(`New password for ${u.email} (at least 8 characters)`);
                          if (pw) resetPassword.mutate({ id: u.id, newPassword: pw });
                        }}
                      >
                        Reset password
                      </button>
                      <button type="button" className="rounded-sm border border-line px-2 py-0.5 text-xs text-dim hover:text-fg" onClick={() => setDisabled.mutate({ id: u.id, disabled: !u.disabled })}>
                        {u.disabled ? "Enable" : "Disable"}
                      </button>
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.isLoading ? <p className="px-4 py-3 text-sm text-dim">Loading…</p> : null}
      </div>
    </section>
  );
}
