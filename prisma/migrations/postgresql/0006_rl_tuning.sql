-- Reinforcement learning (PostgreSQL): genetic hyperparameter searches with their resumable state and result.
CREATE TABLE "RlTuning" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "status" TEXT NOT NULL,
    "job" TEXT NOT NULL,
    "state" TEXT,
    "result" TEXT,
    "generation" INTEGER NOT NULL DEFAULT -1,
    "done" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3)
);
CREATE INDEX "RlTuning_createdAt_idx" ON "RlTuning"("createdAt");
