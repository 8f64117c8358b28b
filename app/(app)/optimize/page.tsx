import { OptimizeView } from "./optimize-view";

export default function OptimizePage() {
  return <OptimizeView />;
}
