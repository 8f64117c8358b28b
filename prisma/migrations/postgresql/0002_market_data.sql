-- Market data (PostgreSQL): instruments, series stored as columnar chunks, import reports, quarantine.
CREATE TABLE "Instrument" (
    "symbol" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "tickSize" DOUBLE PRECISION NOT NULL,
    "pointValue" DOUBLE PRECISION NOT NULL,
    "currency" TEXT NOT NULL,
    "commission" DOUBLE PRECISION NOT NULL,
    "commissionType" TEXT NOT NULL DEFAULT 'per_contract',
    "calendar" TEXT NOT NULL,
    "builtin" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL
);

CREATE TABLE "Series" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "symbol" TEXT NOT NULL,
    "timeframe" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "firstTs" BIGINT,
    "lastTs" BIGINT,
    "updatedAt" TIMESTAMP(3) NOT NULL
);
CREATE UNIQUE INDEX "Series_symbol_timeframe_key" ON "Series"("symbol", "timeframe");

CREATE TABLE "BarChunk" (
    "seriesId" INTEGER NOT NULL,
    "bucket" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,
    "firstTs" BIGINT NOT NULL,
    "lastTs" BIGINT NOT NULL,
    "data" BYTEA NOT NULL,
    PRIMARY KEY ("seriesId", "bucket")
);

CREATE TABLE "ImportReport" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "symbol" TEXT NOT NULL,
    "timeframe" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "rowsRead" INTEGER NOT NULL DEFAULT 0,
    "stored" INTEGER NOT NULL DEFAULT 0,
    "inserted" INTEGER NOT NULL DEFAULT 0,
    "unchanged" INTEGER NOT NULL DEFAULT 0,
    "quarantined" INTEGER NOT NULL DEFAULT 0,
    "flagged" INTEGER NOT NULL DEFAULT 0,
    "reasons" TEXT NOT NULL DEFAULT '{}',
    "flags" TEXT NOT NULL DEFAULT '{}',
    "gaps" TEXT NOT NULL DEFAULT '[]',
    "firstTs" BIGINT,
    "lastTs" BIGINT,
    "error" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "createdById" TEXT
);
CREATE INDEX "ImportReport_symbol_startedAt_idx" ON "ImportReport"("symbol", "startedAt");

CREATE TABLE "QuarantineRow" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "importId" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "raw" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT NOT NULL
);
CREATE INDEX "QuarantineRow_importId_line_idx" ON "QuarantineRow"("importId", "line");
CREATE INDEX "QuarantineRow_symbol_reason_idx" ON "QuarantineRow"("symbol", "reason");
