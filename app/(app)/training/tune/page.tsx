import { TuneView } from "./tune-view";

export default async function TunePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const id = Array.isArray(sp.id) ? sp.id[0] : sp.id;
  return <TuneView initialId={id ?? null} />;
}
