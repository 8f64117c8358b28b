import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Strategy Builder"
      summary="The strategy builder arrives with the trading-core issue."
      planned={["Conditions on indicators and prices in AND/OR groups", "Long and short entries, exits, brackets", "Save and backtest a built strategy"]}
    />
  );
}
