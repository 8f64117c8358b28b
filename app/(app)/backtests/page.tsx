import { BacktestsView } from "./backtests-view";

export default function BacktestsPage() {
  return <BacktestsView />;
}
