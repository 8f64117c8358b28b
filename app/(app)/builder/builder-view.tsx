"use client";
import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { BacktestPanel } from "./backtest-panel";
import { EditorContext, btnCls, fieldCls, type EditorApi } from "./fields";
import { SectionEditor } from "./rule-editor";
import { NameEditor, RiskEditor, SessionEditor } from "./settings-editor";
import { SECTIONS, blankSpec, humanPath, localIssues, mapIssues, mergeIssues, parseJson, pathKey, setIn, stableKey, toFormSpec, type Issue, type Spec } from "./spec-edit";

type Saved = { name: string; version: number };
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;

export function BuilderView() {
  const search = useSearchParams();
  const utils = trpc.useUtils();
  const catalog = trpc.backtest.builderCatalog.useQuery(undefined, { staleTime: Infinity });
  const specs = trpc.backtest.specs.useQuery();
  const validate = trpc.backtest.validateSpec.useMutation();
  const save = trpc.backtest.saveSpec.useMutation();

  const [draft, setDraft] = useState<Spec>(blankSpec);
  const [mode, setMode] = useState<"form" | "json">("form");
  const [jsonText, setJsonText] = useState("");
  const [modeError, setModeError] = useState<string | null>(null);
  /** What the editor started from (key of the loaded document) and the saved version it is, if any. */
  const [base, setBase] = useState<{ key: string; saved: Saved | null }>(() => ({ key: stableKey(blankSpec()), saved: null }));
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [validation, setValidation] = useState<{ key: string; issues: Issue[]; error: string | null } | null>(null);
  const [pick, setPick] = useState<{ name: string; version: number | null }>({ name: "", version: null });
  const [loading, setLoading] = useState(false);

  const parsed = useMemo(() => (mode === "json" ? parseJson(jsonText) : null), [mode, jsonText]);
  const current: unknown = mode === "form" ? draft : parsed?.ok ? parsed.value : undefined;
  const currentKey = current === undefined ? null : stableKey(current);
  const dirty = currentKey !== base.key;
  const needsSave = dirty || base.saved === null;

  // --- validation as the user edits (debounced; the latest answer wins)
  const currentRef = useRef<unknown>(current);
  currentRef.current = current;
  const seq = useRef(0);
  useEffect(() => {
    if (currentKey === null) return;
    const my = ++seq.current;
    const t = setTimeout(() => {
      validate
        .mutateAsync({ spec: currentRef.current })
        .then((r) => my === seq.current && setValidation({ key: currentKey, issues: r.issues, error: null }))
        .catch((e: unknown) => my === seq.current && setValidation({ key: currentKey, issues: [], error: errMessage(e) }));
    }, 350);
    return () => clearTimeout(t);
    // keyed on the document's content (currentRef holds the document itself)
  }, [currentKey]);

  const local = useMemo(() => (mode === "form" ? localIssues(draft) : []), [mode, draft]);
  const issues = useMemo(() => mergeIssues(validation?.issues ?? [], local), [validation, local]);
  const mapped = useMemo(() => (mode === "form" ? mapIssues(issues, draft) : { byPath: new Map<string, string[]>(), unmapped: issues }), [issues, draft, mode]);
  const checking = currentKey !== null && validation?.key !== currentKey;

  const editor: EditorApi = useMemo(
    () => ({
      spec: draft,
      set: (path, value) => setDraft((s) => setIn(s, path, value)),
      update: (fn) => setDraft(fn),
      errors: (path) => mapped.byPath.get(pathKey(path)),
    }),
    [draft, mapped],
  );

  // --- loading
  const loadDoc = useCallback(
    (doc: unknown, saved: Saved | null) => {
      setModeError(null);
      const r = toFormSpec(doc);
      if (r.ok) {
        setDraft(r.value);
        setJsonText(JSON.stringify(r.value, null, 2));
        setBase({ key: stableKey(r.value), saved });
      } else {
        setMode("json");
        setJsonText(JSON.stringify(doc, null, 2));
        setModeError(`The form cannot show this spec (${r.error}); edit it as JSON.`);
        setBase({ key: stableKey(doc), saved });
      }
    },
    [setDraft],
  );

  const loadSaved = useCallback(
    async (name: string, version?: number) => {
      setLoading(true);
      setNotice(null);
      try {
        const row = await utils.backtest.spec.fetch({ name, version });
        loadDoc(row.spec, { name: row.name, version: row.version });
        setPick({ name: row.name, version: row.version });
        setNotice({ ok: true, text: `Loaded ${row.name} v${row.version}` });
        window.history.replaceState(null, "", `/builder?name=${encodeURIComponent(row.name)}&version=${row.version}`);
      } catch (e) {
        setNotice({ ok: false, text: `Could not load ${name}${version ? ` v${version}` : ""}: ${errMessage(e)}` });
      } finally {
        setLoading(false);
      }
    },
    [utils, loadDoc],
  );

  // /builder?name=X[&version=N] opens a saved strategy.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current) return;
    opened.current = true;
    const name = search.get("name");
    const v = Number(search.get("version"));
    if (name) void loadSaved(name, Number.isInteger(v) && v > 0 ? v : undefined);
  }, [search, loadSaved]);

  function startFresh(doc: unknown) {
    setNotice(null);
    setPick({ name: "", version: null });
    loadDoc(doc, null);
    window.history.replaceState(null, "", "/builder");
  }

  // --- JSON view
  function toJson() {
    setJsonText(JSON.stringify(draft, null, 2));
    setModeError(null);
    setMode("json");
  }
  function toForm() {
    const p = parseJson(jsonText);
    if (!p.ok) return setModeError(`Fix the JSON first: ${p.error}`);
    const r = toFormSpec(p.value);
    if (!r.ok) return setModeError(`The form cannot show this spec: ${r.error}`);
    setDraft(r.value);
    setModeError(null);
    setMode("form");
  }

  // --- saving
  async function doSave(): Promise<Saved | null> {
    setNotice(null);
    if (current === undefined || currentKey === null) {
      setNotice({ ok: false, text: "Not saved: the JSON does not parse." });
      return null;
    }
    if (local.length) {
      setNotice({ ok: false, text: `Not saved: ${plural(local.length, "number field")} empty or not a number.` });
      return null;
    }
    try {
      const r = await save.mutateAsync({ spec: current });
      if (!r.ok) {
        setValidation({ key: currentKey, issues: r.issues, error: null });
        setNotice({ ok: false, text: `Not saved: fix ${plural(r.issues.length, "problem")} first.` });
        return null;
      }
      const saved = { name: r.name, version: r.version };
      setBase({ key: currentKey, saved });
      setPick(saved);
      setNotice({ ok: true, text: `Saved as ${r.name} v${r.version}` });
      window.history.replaceState(null, "", `/builder?name=${encodeURIComponent(r.name)}&version=${r.version}`);
      void utils.backtest.specs.invalidate();
      return saved;
    } catch (e) {
      setNotice({ ok: false, text: `Not saved: ${errMessage(e)}` });
      return null;
    }
  }
  const doSaveRef = useRef(doSave);
  doSaveRef.current = doSave;
  const ensureSaved = useCallback(async (): Promise<Saved | null> => {
    if (!needsSave && base.saved) return base.saved;
    return doSaveRef.current();
  }, [needsSave, base.saved]);

  const pickedSpec = specs.data?.find((s) => s.name === pick.name);
  const pickedVersion = pick.version ?? pickedSpec?.version ?? null;
  const status = base.saved
    ? dirty
      ? `changed since ${base.saved.name} v${base.saved.version}`
      : `saved as ${base.saved.name} v${base.saved.version}`
    : dirty
      ? "new strategy, not saved"
      : "new strategy";
  const problems = issues.length;

  return (
    <div className="mx-auto max-w-6xl space-y-4">
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
        <h1 className="text-lg font-semibold">Strategy builder</h1>
        <span data-testid="builder-saved-state" className={`num text-xs ${base.saved && !dirty ? "text-accent" : "text-dim"}`}>
          {status}
        </span>
      </div>

      {/* Open a saved strategy, or start from the example or from blank */}
      <section className="border border-line bg-panel p-3" aria-label="Open a strategy">
        <div className="grid grid-cols-2 gap-2 sm:flex sm:flex-wrap sm:items-end">
          <label className="col-span-2 block min-w-0 text-xs text-dim sm:w-56">
            Saved strategy
            <select
              aria-label="Saved strategy"
              className={`num ${fieldCls()}`}
              value={pick.name}
              onChange={(e) => setPick({ name: e.target.value, version: null })}
              disabled={!specs.data?.length}
            >
              <option value="">{specs.isLoading ? "loading…" : specs.data?.length ? "choose…" : "none saved yet"}</option>
              {specs.data?.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name} (v{s.version})
                </option>
              ))}
            </select>
          </label>
          <label className="block min-w-0 text-xs text-dim sm:w-24">
            Version
            <select
              aria-label="Saved strategy version"
              className={`num ${fieldCls()}`}
              value={pickedVersion ?? ""}
              onChange={(e) => setPick({ name: pick.name, version: Number(e.target.value) })}
              disabled={!pickedSpec}
            >
              {!pickedSpec ? <option value="">—</option> : null}
              {pickedSpec
                ? Array.from({ length: pickedSpec.version }, (_, i) => pickedSpec.version - i).map((v) => (
                    <option key={v} value={v}>
                      v{v}
                    </option>
                  ))
                : null}
            </select>
          </label>
          <button type="button" className="min-h-9 self-end rounded-sm border border-accent/60 px-3 py-1.5 text-sm text-accent disabled:opacity-40" disabled={!pickedSpec || loading} onClick={() => void loadSaved(pick.name, pickedVersion ?? undefined)}>
            {loading ? "Loading…" : "Load"}
          </button>
          <span className="col-span-2 hidden self-center text-xs text-dim sm:inline sm:px-2">or start from</span>
          <button type="button" className={`${btnCls} min-h-9 text-sm`} disabled={!catalog.data} onClick={() => catalog.data && startFresh(catalog.data.example)}>
            Example
          </button>
          <button type="button" className={`${btnCls} min-h-9 text-sm`} onClick={() => startFresh(blankSpec())}>
            Blank
          </button>
        </div>
        {dirty ? <p className="mt-2 text-[11px] text-warn">Loading or starting over replaces your unsaved changes.</p> : null}
        {specs.error ? <p className="mt-2 text-xs text-bad">Could not list saved strategies: {specs.error.message}</p> : null}
      </section>

      {notice ? (
        <p role="status" data-testid="builder-notice" className={`num border px-3 py-2 text-sm ${notice.ok ? "border-accent/40 bg-accent/5 text-accent" : "border-bad/40 bg-bad/10 text-bad"}`}>
          {notice.text}
        </p>
      ) : null}

      {/* Problems the form has no field for (or all of them in the JSON view) */}
      {mapped.unmapped.length || validation?.error ? (
        <section role="alert" data-testid="builder-issues" className="border border-bad/40 bg-bad/5 px-3 py-2 text-sm">
          {validation?.error ? <p className="text-bad">Could not check the spec: {validation.error}</p> : null}
          {mapped.unmapped.length ? (
            <ul className="space-y-0.5">
              {mapped.unmapped.map((i) => (
                <li key={`${i.path}:${i.message}`} className="break-words text-bad">
                  <span className="num text-xs text-dim">{humanPath(i.path)}</span> — {i.message}
                </li>
              ))}
            </ul>
          ) : null}
        </section>
      ) : null}

      <div className="flex flex-wrap items-center justify-between gap-2">
        <div role="group" aria-label="Editor view" className="flex">
          {(["form", "json"] as const).map((m) => (
            <button
              key={m}
              type="button"
              aria-pressed={mode === m}
              onClick={() => (m === mode ? undefined : m === "json" ? toJson() : toForm())}
              className={`num -ml-px min-h-8 border border-line px-3 py-1 text-xs uppercase first:ml-0 ${mode === m ? "bg-accent text-bg" : "text-dim hover:text-fg"}`}
            >
              {m}
            </button>
          ))}
        </div>
        {mode === "json" ? (
          <button type="button" className={btnCls} disabled={!parsed?.ok} onClick={() => parsed?.ok && setJsonText(JSON.stringify(parsed.value, null, 2))}>
            Format
          </button>
        ) : null}
      </div>
      {modeError ? (
        <p role="alert" className="border border-warn/40 bg-warn/5 px-3 py-2 text-sm text-warn">
          {modeError}
        </p>
      ) : null}

      {mode === "form" ? (
        <EditorContext.Provider value={editor}>
          <div className="space-y-4">
            <NameEditor />
            <div className="grid gap-4 xl:grid-cols-2">
              {SECTIONS.map((s) => (
                <SectionEditor key={s} section={s} />
              ))}
            </div>
            <div className="grid gap-4 lg:grid-cols-2">
              <RiskEditor />
              <SessionEditor />
            </div>
          </div>
        </EditorContext.Provider>
      ) : (
        <section className="border border-line bg-panel p-3">
          <label className="block text-xs text-dim">
            Spec as JSON (schema 1)
            <textarea
              aria-label="Spec JSON"
              data-testid="builder-json"
              spellCheck={false}
              autoCapitalize="off"
              autoCorrect="off"
              className={`num mt-1 block h-[60vh] min-h-64 w-full resize-y rounded-sm border bg-bg p-2 text-xs leading-relaxed outline-none focus:border-accent ${parsed && !parsed.ok ? "border-bad" : "border-line"}`}
              value={jsonText}
              onChange={(e) => setJsonText(e.target.value)}
            />
          </label>
          {parsed && !parsed.ok ? (
            <p role="alert" data-testid="builder-json-error" className="num mt-2 break-words text-xs text-bad">
              JSON error: {parsed.error}
            </p>
          ) : null}
        </section>
      )}

      {/* Save bar: stays in view at the bottom while scrolling through the rules */}
      <div className="sticky bottom-0 z-[5] -mx-4 flex flex-wrap items-center justify-between gap-2 border-t border-line bg-panel/95 px-4 py-2 backdrop-blur md:mx-0 md:border md:px-3">
        <span data-testid="builder-validation" className={`num text-xs ${current === undefined || problems ? "text-bad" : checking ? "text-dim" : "text-accent"}`}>
          {current === undefined ? "JSON does not parse" : checking && !problems ? "checking…" : problems ? `${plural(problems, "problem")}${mode === "form" && problems > mapped.unmapped.length ? " — marked on the fields" : ""}` : "✓ valid"}
        </span>
        <button
          type="button"
          data-testid="builder-save"
          onClick={() => void doSave()}
          disabled={save.isPending || current === undefined || !needsSave}
          className="min-h-9 rounded-sm bg-accent px-4 py-1.5 text-sm font-medium text-bg disabled:opacity-50"
        >
          {save.isPending ? "Saving…" : needsSave ? "Save" : "Saved"}
        </button>
      </div>

      <BacktestPanel ensureSaved={ensureSaved} needsSave={needsSave} blocked={current === undefined ? "Fix the JSON before running a backtest." : null} />
    </div>
  );
}
