import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Backtests"
      summary="The backtest engine arrives with the trading-core issue. No backtest has been run on this installation."
      planned={["Run backtests from the UI, tRPC and the CLI", "Equity, drawdown and monthly-return reports", "Parameter sweeps, genetic search and walk-forward"]}
    />
  );
}
