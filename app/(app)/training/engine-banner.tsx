import type { StreamState } from "@/app/(app)/backtests/use-backtest-progress";

/** Says plainly when the engine (where training runs) cannot be reached. */
export function EngineBanner({ stream }: { stream: StreamState }) {
  if (stream !== "offline") return null;
  return (
    <p role="alert" data-testid="engine-offline" className="border border-warn/40 bg-warn/10 px-3 py-2 text-sm text-warn">
      Engine offline: training runs in the engine, which is not reachable right now, so runs cannot start, stop or resume and live curves pause. Stored runs and models still open.
    </p>
  );
}
