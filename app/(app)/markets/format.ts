export function fmtTs(ms: number | null | undefined, dateOnly = false): string {
  if (ms === null || ms === undefined) return "—";
  const iso = new Date(ms).toISOString();
  return dateOnly ? iso.slice(0, 10) : iso.slice(0, 16).replace("T", " ");
}

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}
