-- Backtests (SQLite): persisted runs, builder strategy specs (versioned), optimisation runs.
CREATE TABLE "BacktestRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "status" TEXT NOT NULL,
    "strategy" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "timeframe" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "config" TEXT NOT NULL,
    "firstTs" BIGINT,
    "lastTs" BIGINT,
    "bars" INTEGER NOT NULL DEFAULT 0,
    "fills" INTEGER NOT NULL DEFAULT 0,
    "finalValue" REAL,
    "metrics" TEXT,
    "trades" TEXT,
    "equity" TEXT,
    "monthly" TEXT,
    "prices" TEXT,
    "error" TEXT,
    "optimizationId" TEXT,
    "createdById" TEXT,
    "createdAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
);
CREATE INDEX "BacktestRun_createdAt_idx" ON "BacktestRun"("createdAt");

CREATE TABLE "StrategySpec" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "spec" TEXT NOT NULL,
    "createdById" TEXT,
    "createdAt" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "StrategySpec_name_version_key" ON "StrategySpec"("name", "version");

CREATE TABLE "OptimizationRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "config" TEXT NOT NULL,
    "result" TEXT,
    "progress" REAL NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdById" TEXT,
    "createdAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
);
CREATE INDEX "OptimizationRun_createdAt_idx" ON "OptimizationRun"("createdAt");
