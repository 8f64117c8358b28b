import { Suspense } from "react";
import { BuilderView } from "./builder-view";

export default function BuilderPage() {
  return (
    <Suspense fallback={<p className="text-sm text-dim">Loading the builder…</p>}>
      <BuilderView />
    </Suspense>
  );
}
