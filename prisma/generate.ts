/**
 * Generates the Prisma clients for both supported databases from the one
 * schema in prisma/schema.prisma:
 *   prisma/generated/sqlite      (default, embedded)
 *   prisma/generated/postgresql  (DATABASE_URL=postgresql://...)
 *
 * Runs offline: Prisma's CLI wants to download its native schema engine before
 * any command, which this project never uses (see prisma/no-schema-engine.sh),
 * so PRISMA_SCHEMA_ENGINE_BINARY points at that stand-in.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const schemaPath = join(here, "schema.prisma");
const source = readFileSync(schemaPath, "utf8");

const pgSchema = source
  .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
  .replace(/output\s*=\s*"\.\/generated\/sqlite"/, 'output   = "./postgresql"');
if (pgSchema === source || !pgSchema.includes('"postgresql"') || !pgSchema.includes('"./postgresql"')) {
  throw new Error("prisma/generate.ts: could not derive the PostgreSQL schema from prisma/schema.prisma");
}
const generatedDir = join(here, "generated");
mkdirSync(generatedDir, { recursive: true });
const pgSchemaPath = join(generatedDir, "schema.postgresql.prisma");
writeFileSync(
  pgSchemaPath,
  "// GENERATED from prisma/schema.prisma by prisma/generate.ts. Do not edit.\n" + pgSchema,
);

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? join(here, "no-schema-engine.sh"),
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
};
const prismaBin = join(here, "..", "node_modules", "prisma", "build", "index.js");
for (const schema of [schemaPath, pgSchemaPath]) {
  execFileSync(process.execPath, [prismaBin, "generate", "--schema", schema], { env, stdio: "inherit" });
}
