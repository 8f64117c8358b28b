import { EngineStatus } from "@/app/_components/engine-status";

export default function DashboardPage() {
  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Dashboard</h1>
      <EngineStatus />
      <p className="text-xs text-dim">
        Markets, backtests, training and bots appear here as they are built; see the pages in the menu for what each will hold.
      </p>
    </div>
  );
}
