/** Small presentational pieces shared by the backtest pages. */
import type { ReactNode } from "react";

export const inputCls = (invalid = false) =>
  `w-full min-w-0 rounded-sm border bg-bg px-2 py-1.5 text-sm outline-none focus:border-accent disabled:opacity-50 ${invalid ? "border-bad" : "border-line"}`;

export function Section({ title, right, children, testId }: { title: ReactNode; right?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="min-w-0 border border-line bg-panel" data-testid={testId}>
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-4 py-3">
        <h2 className="text-sm font-semibold">{title}</h2>
        {right}
      </div>
      {children}
    </section>
  );
}

/** A labelled form control with its hint and its error underneath. */
export function Field({ label, error, hint, id, className = "", children }: { label: string; error?: string; hint?: ReactNode; id: string; className?: string; children: ReactNode }) {
  return (
    <div className={`min-w-0 ${className}`}>
      <label htmlFor={id} className="block text-xs text-dim">
        {label}
      </label>
      <div className="mt-1">{children}</div>
      {hint ? <p className="mt-1 text-[11px] text-dim">{hint}</p> : null}
      {error ? (
        <p id={`${id}-error`} role="alert" className="mt-1 text-xs text-bad" data-testid={`error-${id}`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const cls =
    status === "done" ? "border-accent/50 text-accent" : status === "failed" ? "border-bad/50 text-bad" : status === "cancelled" ? "border-warn/50 text-warn" : "border-info/50 text-info";
  return <span className={`num inline-block rounded-sm border px-1.5 py-px text-[11px] ${cls}`}>{status}</span>;
}

/** Text colour for a signed figure. */
export const signCls = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) || x === 0 ? "" : x > 0 ? "text-accent" : "text-bad");

export function ProgressBar({ done, total, label }: { done: number; total: number; label: string }) {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  return (
    <div className="h-2 min-w-32 flex-1 border border-line bg-bg" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={total} aria-valuenow={done}>
      <div className="h-full bg-accent transition-[width]" style={{ width: `${(frac * 100).toFixed(1)}%` }} />
    </div>
  );
}
