"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { hasRole, isRole } from "@/server/auth/roles";
import { Section } from "@/app/(app)/backtests/ui";
import { EngineBanner } from "./engine-banner";
import { ModelRegistry } from "./model-registry";
import { NetworkPanel } from "./network-view";
import { RunsTable } from "./runs-table";
import { TrainingForm } from "./training-form";
import { useTrainProgress } from "./use-train-progress";

/** Where training computes (the engine's ONNX execution provider for device "auto") and why, e.g. no usable GPU. */
function ComputeLine() {
  const c = trpc.training.compute.useQuery(undefined, { staleTime: 300_000, retry: false });
  if (!c.data) return null;
  return (
    <p className="num text-[11px] text-dim" data-testid="training-compute" data-provider={c.data.provider}>
      Compute: <span className="text-fg">{c.data.provider === "cuda" ? "GPU (CUDA)" : "CPU"}</span> (ONNX Runtime){c.data.note ? ` · ${c.data.note}` : ""}
    </p>
  );
}

/** /training: start a run, the runs (live), the model registry and a model's network. */
export function TrainingView({ initialModel }: { initialModel: string | null }) {
  const router = useRouter();
  const me = trpc.users.me.useQuery();
  const live = useTrainProgress();
  const utils = trpc.useUtils();
  const anyRunning = [...live.latest.values()].some((e) => e.status === "running");
  const runs = trpc.training.runs.useQuery(undefined, { refetchInterval: (q) => (anyRunning || (q.state.data ?? []).some((r) => r.status === "running") ? 5000 : false) });
  const models = trpc.training.models.useQuery();
  const [netModel, setNetModel] = useState<string | null>(initialModel);

  // a run that changes state (ends, stops, is reset) refreshes the list; a finished run registers a model
  const states = [...live.latest.values()].map((e) => `${e.runId}:${e.status}`).join(",");
  const finishedModels = [...live.latest.values()].filter((e) => e.modelId).length;
  useEffect(() => {
    if (states) void utils.training.runs.invalidate();
  }, [states, utils]);
  useEffect(() => {
    if (finishedModels > 0) void utils.training.models.invalidate();
  }, [finishedModels, utils]);

  // opened with ?model=<id>: show that model's network
  useEffect(() => {
    if (!initialModel || !models.data) return;
    document.getElementById("network")?.scrollIntoView({ block: "start" });
  }, [initialModel, models.data]);

  const role = me.data?.role;
  const canRun = isRole(role) ? hasRole(role, "trader") : true; // unknown yet: let the server decide

  return (
    <div className="space-y-4">
      <div>
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h1 className="text-lg font-semibold">Training</h1>
          <Link href="/training/tune" className="text-xs text-accent underline" data-testid="tune-link">
            Hyperparameter search →
          </Link>
        </div>
        <p className="mt-0.5 text-xs text-dim">Reinforcement learning in the engine: PPO or DQN on CartPole (a sanity check) or on a stored series inside the execution simulator, with live curves, an honest out-of-sample report and a registry of the trained policies (ONNX).</p>
      </div>
      <EngineBanner stream={live.stream} />
      <ComputeLine />
      <TrainingForm canRun={canRun} onStarted={(id) => router.push(`/training/${encodeURIComponent(id)}`)} />
      <Section title="Runs" testId="training-runs" right={<span className="num text-[11px] text-dim">{runs.data ? `${runs.data.length} newest` : ""}</span>}>
        {runs.isLoading ? <p className="px-4 py-6 text-sm text-dim">Loading…</p> : null}
        {runs.error ? (
          <p role="alert" className="px-4 py-6 text-sm text-bad">
            {runs.error.message}
          </p>
        ) : null}
        {runs.data ? <RunsTable rows={runs.data} latest={live.latest} canRun={canRun} /> : null}
      </Section>
      <Section title="Model registry" testId="model-registry" right={<span className="num text-[11px] text-dim">{models.data ? `${models.data.length} model${models.data.length === 1 ? "" : "s"}` : ""}</span>}>
        {models.isLoading ? <p className="px-4 py-6 text-sm text-dim">Loading…</p> : null}
        {models.error ? (
          <p role="alert" className="px-4 py-6 text-sm text-bad">
            {models.error.message}
          </p>
        ) : null}
        {models.data ? (
          <ModelRegistry
            models={models.data}
            canDelete={canRun}
            selected={netModel}
            onNetwork={(id) => {
              setNetModel(id);
              document.getElementById("network")?.scrollIntoView({ behavior: "smooth", block: "start" });
            }}
          />
        ) : null}
      </Section>
      <div id="network" className="scroll-mt-4">
        <Section title="Network view" testId="network-view" right={<span className="text-[11px] text-dim">the policy&apos;s own ONNX weights, for an observation you set</span>}>
          {models.data ? <NetworkPanel models={models.data} modelId={netModel} onPick={setNetModel} /> : <p className="px-4 py-6 text-sm text-dim">Loading…</p>}
        </Section>
      </div>
    </div>
  );
}
