import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RunListRow = RouterOutputs["training"]["runs"][number];
export type RunDetail = RouterOutputs["training"]["run"];
export type ModelListRow = RouterOutputs["training"]["models"][number];
