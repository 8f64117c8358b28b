/**
 * Creates the Prisma client for the configured database. Both the web app's
 * repositories (server/db) and the engine's persistence adapters use this;
 * engine domain code and React never see Prisma types.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client";
import { PrismaClient as PgClient } from "./generated/postgresql/client";

/** Both generated clients share one model API; the SQLite one is used as the type. */
export type Db = SqliteClient;

export function createDb(databaseUrl: string): Db {
  if (databaseUrl.startsWith("file:")) {
    const adapter = new PrismaBetterSqlite3({ url: databaseUrl, timeout: 10_000 });
    return new SqliteClient({ adapter });
  }
  const adapter = new PrismaPg({ connectionString: databaseUrl });
  return new PgClient({ adapter }) as unknown as Db;
}
