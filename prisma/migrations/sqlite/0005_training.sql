-- Reinforcement learning (SQLite): training runs with their curves and checkpoint, and the model registry.
CREATE TABLE "TrainingRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "env" TEXT NOT NULL,
    "algo" TEXT NOT NULL,
    "seed" INTEGER NOT NULL,
    "config" TEXT NOT NULL,
    "steps" INTEGER NOT NULL DEFAULT 0,
    "totalSteps" INTEGER NOT NULL DEFAULT 0,
    "curves" TEXT,
    "summary" TEXT,
    "checkpoint" BLOB,
    "error" TEXT,
    "createdById" TEXT,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
);
CREATE INDEX "TrainingRun_createdAt_idx" ON "TrainingRun"("createdAt");

CREATE TABLE "Model" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "runId" TEXT,
    "algo" TEXT NOT NULL,
    "env" TEXT NOT NULL,
    "hyperparams" TEXT NOT NULL,
    "featureSpec" TEXT,
    "dataSpans" TEXT,
    "seed" INTEGER NOT NULL,
    "metrics" TEXT,
    "codeVersion" TEXT NOT NULL,
    "onnx" BLOB NOT NULL,
    "createdById" TEXT,
    "createdAt" DATETIME NOT NULL
);
CREATE INDEX "Model_createdAt_idx" ON "Model"("createdAt");
