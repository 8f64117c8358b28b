import { RunView } from "./run-view";

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export default async function TrainingRunPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id } = await params;
  const sp = await searchParams;
  const raw = Array.isArray(sp.compare) ? sp.compare.join(",") : (sp.compare ?? "");
  const compare = raw
    .split(",")
    .map((s) => decode(s.trim()))
    .filter((s) => s && s !== decode(id));
  return <RunView id={decode(id)} initialCompare={[...new Set(compare)]} />;
}
