-- Optimisation runs: a summary beside the (large) result, for listing.
ALTER TABLE "OptimizationRun" ADD COLUMN "trials" INTEGER;
ALTER TABLE "OptimizationRun" ADD COLUMN "total" INTEGER;
ALTER TABLE "OptimizationRun" ADD COLUMN "bestObjective" DOUBLE PRECISION;
