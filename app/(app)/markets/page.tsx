import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Markets"
      summary="Market data import and charts arrive with the market-data issue. Nothing is stored yet, so there is nothing to show."
      planned={["CSV import (bars and ticks) with a data firewall and quarantine", "Instruments with coverage and gaps", "Candlestick charts with indicators", "Replay of stored series as a live feed"]}
    />
  );
}
