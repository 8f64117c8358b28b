import { TrainingView } from "./training-view";

export default async function TrainingPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const model = Array.isArray(sp.model) ? sp.model[0] : sp.model;
  return <TrainingView initialModel={model ?? null} />;
}
