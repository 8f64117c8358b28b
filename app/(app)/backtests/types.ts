import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

type RouterOutputs = inferRouterOutputs<AppRouter>;

export type StrategiesOutput = RouterOutputs["backtest"]["strategies"];
export type BuiltinStrategy = StrategiesOutput["builtin"][number];
export type ParamDefView = BuiltinStrategy["params"][number];
export type InstrumentWithSeries = RouterOutputs["market"]["instruments"][number];
export type RunSummary = RouterOutputs["backtest"]["list"][number];
export type RunDetail = RouterOutputs["backtest"]["get"];
