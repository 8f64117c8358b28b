"use client";
import { createContext, useContext, useEffect, useId, useState } from "react";
import { humanPath, pathKey, type Path, type Spec } from "./spec-edit";

export const fieldCls = (invalid = false) =>
  `w-full min-w-0 rounded-sm border bg-bg px-2 py-1.5 text-sm outline-none focus:border-accent ${invalid ? "border-bad" : "border-line"}`;
export const labelCls = "block min-w-0 text-xs text-dim";
export const btnCls = "rounded-sm border border-line px-2 py-1 text-xs text-dim hover:border-accent hover:text-fg disabled:opacity-40";

/** What every editor needs: the spec, how to change it, and the issues placed on fields. */
export interface EditorApi {
  spec: Spec;
  set: (path: Path, value: unknown) => void;
  update: (fn: (s: Spec) => Spec) => void;
  errors: (path: Path) => string[] | undefined;
}

export const EditorContext = createContext<EditorApi | null>(null);

export function useEditor(): EditorApi {
  const e = useContext(EditorContext);
  if (!e) throw new Error("useEditor outside EditorContext");
  return e;
}

/** The messages placed on a path (an input or a block). */
export function FieldErrors({ path, id }: { path: Path; id?: string }) {
  const msgs = useEditor().errors(path);
  if (!msgs?.length) return null;
  return (
    <span id={id} data-testid={`error-${pathKey(path)}`} className="mt-0.5 block text-[11px] leading-snug text-bad">
      {msgs.join("; ")}
    </span>
  );
}

function useFieldError(path: Path) {
  const id = useId();
  const msgs = useEditor().errors(path);
  return { id, invalid: !!msgs?.length };
}

const fmt = (v: unknown) => (typeof v === "number" && !Number.isNaN(v) ? String(v) : typeof v === "string" ? v : "");
const parse = (t: string) => (t.trim() === "" ? NaN : Number(t));
const same = (a: number, b: unknown) => (typeof b === "number" ? Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) : false);

/**
 * A number input bound to a spec path. Keeps the text as typed ("1." or "")
 * and writes the number (NaN while the text is not a number: the page reports
 * "enter a number" on this field and nothing is saved until it is fixed).
 */
export function NumberField({ path, label, hideLabel, step }: { path: Path; label: string; hideLabel?: boolean; step?: "int" | "any" }) {
  const { spec, set } = useEditor();
  const value = path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined), spec);
  const [text, setText] = useState(fmt(value));
  useEffect(() => {
    setText((t) => (same(parse(t), value) ? t : fmt(value)));
  }, [value]);
  const { id, invalid } = useFieldError(path);
  return (
    <label className={labelCls}>
      <span className={hideLabel ? "sr-only" : undefined}>{label}</span>
      <input
        aria-label={`${humanPath(path)}`}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? id : undefined}
        inputMode={step === "int" ? "numeric" : "decimal"}
        className={`num ${fieldCls(invalid)}`}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          set(path, parse(e.target.value));
        }}
      />
      <FieldErrors path={path} id={id} />
    </label>
  );
}

export function SelectField<T extends string>({
  path,
  label,
  value,
  options,
  onChange,
  hideLabel,
  mono,
}: {
  path: Path;
  label: string;
  value: T;
  options: readonly (T | { value: T; label: string })[];
  onChange: (v: T) => void;
  hideLabel?: boolean;
  mono?: boolean;
}) {
  const { id, invalid } = useFieldError(path);
  return (
    <label className={labelCls}>
      <span className={hideLabel ? "sr-only" : undefined}>{label}</span>
      <select
        aria-label={humanPath(path)}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? id : undefined}
        className={`${mono ? "num " : ""}${fieldCls(invalid)}`}
        value={value}
        onChange={(e) => onChange(e.target.value as T)}
      >
        {options.map((o) => {
          const v = typeof o === "string" ? o : o.value;
          return (
            <option key={v} value={v}>
              {typeof o === "string" ? o : o.label}
            </option>
          );
        })}
      </select>
      <FieldErrors path={path} id={id} />
    </label>
  );
}

export function TextField({ path, label, placeholder, type = "text", list, multiline }: { path: Path; label: string; placeholder?: string; type?: string; list?: string; multiline?: boolean }) {
  const { spec, set } = useEditor();
  const value = path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined), spec);
  const { id, invalid } = useFieldError(path);
  const common = {
    "aria-label": humanPath(path),
    "aria-invalid": invalid || undefined,
    "aria-describedby": invalid ? id : undefined,
    placeholder,
    value: typeof value === "string" ? value : "",
  };
  return (
    <label className={labelCls}>
      {label}
      {multiline ? (
        <textarea {...common} rows={2} className={`${fieldCls(invalid)} resize-y`} onChange={(e) => set(path, e.target.value)} />
      ) : (
        <input {...common} type={type} list={list} className={`${type === "time" ? "num " : ""}${fieldCls(invalid)}`} onChange={(e) => set(path, e.target.value)} />
      )}
      <FieldErrors path={path} id={id} />
    </label>
  );
}
