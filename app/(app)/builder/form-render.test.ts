/**
 * Server-side renders of the form (no browser): every field the issue mapper
 * can place a message on must show it, and nothing may throw for the shapes
 * the form accepts.
 */
import { createElement, Fragment } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { EXAMPLE_SPEC } from "@/engine/core/strategies/builder";
import { INDICATOR_KINDS } from "@/engine/core/indicators";
import { EditorContext, type EditorApi } from "./fields";
import { SectionEditor } from "./rule-editor";
import { NameEditor, RiskEditor, SessionEditor } from "./settings-editor";
import { SECTIONS, appendItem, defaultSession, indicatorDefaults, newGroup, pathKey, setIn, specAnchors, toFormSpec, type Spec } from "./spec-edit";

function render(spec: Spec, errors: (key: string) => string[] | undefined = () => undefined): string {
  const api: EditorApi = { spec, set: () => {}, update: () => {}, errors: (p) => errors(pathKey(p)) };
  return renderToStaticMarkup(
    createElement(
      EditorContext.Provider,
      { value: api },
      createElement(Fragment, null, createElement(NameEditor), ...SECTIONS.map((s) => createElement(SectionEditor, { key: s, section: s })), createElement(RiskEditor), createElement(SessionEditor)),
    ),
  );
}

function richSpec(): Spec {
  const r = toFormSpec(structuredClone(EXAMPLE_SPEC));
  if (!r.ok) throw new Error(r.error);
  let s: Spec = { ...r.value, session: defaultSession(), takeProfit: { type: "ticks", ticks: 8 }, sizing: { type: "risk_pct", percent: 1 } };
  s = appendItem(s, ["longEntry"], newGroup("or"));
  // every indicator kind somewhere, one with an explicit output on a single-output kind
  INDICATOR_KINDS.forEach((kind, i) => {
    s = appendItem(s, ["longEntry", "items", 2], { left: { type: "indicator", indicator: indicatorDefaults(kind), ...(i === 0 ? { output: "sma" } : {}) }, op: i % 2 ? "gt" : "between", right: { type: "price", field: "close" }, low: { type: "value", value: 1 }, high: { type: "value", value: 2 } });
  });
  s = setIn(s, ["longExit"], newGroup("and"));
  return s;
}

describe("form render", () => {
  it("shows a message at every anchor the mapper can use", () => {
    const spec = richSpec();
    const anchors = [...specAnchors(spec)];
    const html = render(spec, (k) => (anchors.includes(k) ? [`msg:${k}`] : undefined));
    const missing = anchors.filter((a) => !html.includes(`data-testid="error-${a}"`));
    expect(missing).toEqual([]);
  });
  it("renders a spec with no sections, no exits and no session", () => {
    const html = render({ schema: 1, name: "", description: "", sizing: { type: "fixed", contracts: 1 } });
    expect(html).toContain("+ Add long entry rules");
    expect(html).toContain("No session filter");
  });
  it("keeps an empty number field empty (NaN) rather than showing NaN", () => {
    const spec = setIn(richSpec(), ["longEntry", "items", 1, "low", "value"], NaN);
    expect(render(spec)).not.toContain('value="NaN"');
  });
});
