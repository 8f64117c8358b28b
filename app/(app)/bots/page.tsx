import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Bots"
      summary="Paper and live bots arrive with the bots issue. Live trading is off and cannot be turned on in this version."
      planned={["Paper broker and order management", "LAB → PAPER → SHADOW → CANARY → LIVE with maker-checker approval", "Interactive Brokers and Binance adapters"]}
    />
  );
}
