/**
 * Process-wide dependencies of the web app: configuration, database, repos.
 * Created lazily once per process (and kept across hot reloads in dev).
 */
import { createDb, type Db } from "@/prisma/db";
import { loadEnv, resolveSecret, type AppEnv } from "@/engine/runtime/env";
import { openSql, type Sql } from "@/engine/store/sql";
import { loginAttemptsRepo, usersRepo, type LoginAttemptsRepo, type UsersRepo } from "@/server/db/users";

export interface ServerDeps {
  env: AppEnv;
  db: Db;
  users: UsersRepo;
  attempts: LoginAttemptsRepo;
  engineSecret: string;
  /** Bulk market-data store connection (opened on first use). */
  sql: () => Sql;
}

export function createServerDeps(env: AppEnv, db: Db = createDb(env.databaseUrl)): ServerDeps {
  let sql: Sql | undefined;
  return {
    env,
    db,
    users: usersRepo(db),
    attempts: loginAttemptsRepo(db),
    engineSecret: resolveSecret("engine", env.dataDir),
    sql: () => (sql ??= openSql(env.databaseUrl)),
  };
}

const g = globalThis as unknown as { __tradeforgeDeps?: ServerDeps };

export function getServerDeps(): ServerDeps {
  g.__tradeforgeDeps ??= createServerDeps(loadEnv());
  return g.__tradeforgeDeps;
}
