/** npm run db:migrate: applies pending migrations to DATABASE_URL (default: the SQLite file in DATA_DIR). */
import { EnvError, loadEnv, redactUrl } from "../engine/runtime/env";
import { migrate } from "./migrate";

try {
  const env = loadEnv();
  const result = await migrate(env.databaseUrl);
  process.stdout.write(`${redactUrl(env.databaseUrl)}: ${result.total} migrations known, applied now: ${result.applied.join(", ") || "none"}\n`);
} catch (err) {
  process.stderr.write(`db:migrate: ${err instanceof EnvError ? err.message : (err as Error).message}\n`);
  process.exit(1);
}
