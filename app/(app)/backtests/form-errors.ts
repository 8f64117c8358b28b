/**
 * Which field of the "New backtest" form a server error is about. The engine
 * names the field in its messages ("params.fast: ...", "fast (30) must be less
 * than slow (10)", "from (...) is after to (...)"), and tRPC input validation
 * flattens Zod errors to fieldErrors. Pure.
 */

/** Form fields an error can be shown next to; "form" = the form as a whole. */
export type FormField = "symbol" | "timeframe" | "strategy" | "size" | "cash" | "commission" | "slippageTicks" | "sameBarPolicy" | "from" | "to" | "form" | `params.${string}`;

/** Maps a field path as the server or the engine names it to a form field. */
export function normalizeField(path: string, paramNames: readonly string[]): FormField {
  const p = path.trim();
  if (p === "params.size" || p === "size") return "size";
  if (p.startsWith("params.")) {
    const name = p.slice("params.".length).split(".")[0] ?? "";
    return paramNames.includes(name) ? `params.${name}` : "strategy";
  }
  if (p === "params") return "strategy";
  if (paramNames.includes(p)) return p === "size" ? "size" : `params.${p}`;
  const head = p.split(".")[0] ?? "";
  switch (head) {
    case "symbol":
    case "data":
    case "instrument":
      return p === "data.timeframe" ? "timeframe" : "symbol";
    case "timeframe":
      return "timeframe";
    case "strategy":
      return "strategy";
    case "cash":
      return "cash";
    case "commission":
      return "commission";
    case "slippage":
    case "slippageTicks":
      return "slippageTicks";
    case "sameBarPolicy":
      return "sameBarPolicy";
    case "from":
      return "from";
    case "to":
      return "to";
    default:
      return "form";
  }
}

/** The form field a server message is about (see the module comment); "form" when it names none. */
export function fieldOfMessage(message: string, paramNames: readonly string[]): FormField {
  const m = message.trim();
  const prefix = /^([A-Za-z][\w.]*)\s*:\s/.exec(m);
  if (prefix) {
    const f = normalizeField(prefix[1]!, paramNames);
    if (f !== "form") return f;
  }
  const first = /^([A-Za-z][\w]*)\b/.exec(m)?.[1];
  if (first && paramNames.includes(first)) return first === "size" ? "size" : `params.${first}`;
  if (/^(unknown parameter|unknown strategy|no builder strategy|builder strategies)/i.test(m)) return "strategy";
  if (/^(unknown symbol|no stored bars|unknown instrument|the data holds no)/i.test(m)) return "symbol";
  if (/^no bars between/i.test(m)) return "from";
  if (first) {
    const f = normalizeField(first, paramNames);
    if (f !== "form") return f;
  }
  return "form";
}

export interface ServerErrorLike {
  message: string;
  data?: { code?: string; zodError?: { fieldErrors?: Record<string, string[] | undefined>; formErrors?: string[] } | null; field?: string } | null;
}

/** Field errors of a failed backtest.run, keyed by form field. */
export function errorsFromServer(err: ServerErrorLike, paramNames: readonly string[]): Partial<Record<FormField, string>> {
  const out: Partial<Record<FormField, string>> = {};
  const add = (f: FormField, msg: string) => {
    out[f] = out[f] ? `${out[f]} ${msg}` : msg;
  };
  const code = err.data?.code;
  if (code === "SERVICE_UNAVAILABLE") {
    add("form", "The engine is offline, so no backtest can start right now. The launcher restarts it by itself; try again in a moment. Past reports below still open.");
    return out;
  }
  if (code === "FORBIDDEN" || code === "UNAUTHORIZED") {
    add("form", err.message);
    return out;
  }
  const zod = err.data?.zodError;
  if (zod && (Object.keys(zod.fieldErrors ?? {}).length || zod.formErrors?.length)) {
    for (const [k, msgs] of Object.entries(zod.fieldErrors ?? {})) {
      if (msgs?.length) add(normalizeField(k, paramNames), `${k}: ${msgs.join(" ")}`);
    }
    for (const msg of zod.formErrors ?? []) add("form", msg);
    return out;
  }
  const explicit = err.data?.field;
  add(explicit ? normalizeField(explicit, paramNames) : fieldOfMessage(err.message, paramNames), err.message);
  return out;
}
