import { createCallerFactory, createTRPCRouter } from "@/server/api/trpc";
import { engineRouter } from "@/server/api/routers/engine";
import { healthRouter } from "@/server/api/routers/health";
import { marketRouter } from "@/server/api/routers/market";
import { backtestRouter } from "@/server/api/routers/backtest";
import { trainingRouter } from "@/server/api/routers/training";
import { usersRouter } from "@/server/api/routers/users";

export const appRouter = createTRPCRouter({
  health: healthRouter,
  users: usersRouter,
  engine: engineRouter,
  market: marketRouter,
  backtest: backtestRouter,
  training: trainingRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
