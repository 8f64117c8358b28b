import { MarketsView } from "./markets-view";

export default function MarketsPage() {
  return <MarketsView />;
}
