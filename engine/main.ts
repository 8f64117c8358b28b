/**
 * The engine process: market data, backtests, training and execution will live
 * here. Today it applies migrations, serves /health, /metrics, the event stream
 * and the command endpoint on 127.0.0.1, and publishes a heartbeat every second.
 *
 *   npm run engine            (on its own)
 *   npm start                 (with the web app, restarted with backoff if it dies)
 */
import { migrate } from "../prisma/migrate";
import { EventBus } from "./events";
import { ProcessSampler } from "./heartbeat";
import { loadEnvOrExit, redactUrl, resolveSecret } from "./runtime/env";
import { createLogger } from "./runtime/logger";
import { importRoute } from "./import-service";
import { ReplayService } from "./replay-service";
import { BacktestService } from "./backtest-service";
import { OptimizeService } from "./optimize-service";
import { TrainService } from "./train-service";
import { TuneService } from "./tune-service";
import { createEngineServer } from "./server";
import { ensureBuiltinInstruments } from "./store/instruments";
import { openSql } from "./store/sql";

async function main(): Promise<void> {
  const env = loadEnvOrExit("engine");
  const logger = createLogger("engine", env.logLevel);
  const secret = resolveSecret("engine", env.dataDir);
  const result = await migrate(env.databaseUrl);
  logger.info({ database: redactUrl(env.databaseUrl), applied: result.applied, migrations: result.total }, "database ready");

  // Ids keep increasing across restarts: a client resuming with an id from a
  // previous run is told about the gap instead of silently missing events.
  const bus = new EventBus(4096, Date.now() * 1000);
  const sampler = new ProcessSampler();
  const sql = openSql(env.databaseUrl);
  await ensureBuiltinInstruments(sql);
  const replay = new ReplayService(sql, bus);
  const backtests = new BacktestService(sql, bus, logger);
  const optimizer = new OptimizeService(sql, bus, logger);
  const trainer = new TrainService(sql, bus, logger);
  await trainer.recover();
  const tuner = new TuneService(sql, bus, logger);
  await tuner.recover();
  const { server, closeStreams } = createEngineServer({
    bus,
    secret,
    logger,
    extraCommands: async (body) => (await replay.handle(body)) ?? (await backtests.handle(body)) ?? (await optimizer.handle(body)) ?? (await trainer.handle(body)) ?? (await tuner.handle(body)),
    routes: { "POST /import": importRoute(env.databaseUrl, bus, logger) },
  });
  server.requestTimeout = 60 * 60 * 1000; // multi-GB uploads stream through POST /import

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.enginePort, "127.0.0.1", () => resolve());
  });
  logger.info({ url: `http://127.0.0.1:${env.enginePort}` }, "engine listening");

  const beat = setInterval(() => bus.publish({ type: "heartbeat", data: sampler.sample() }), 1000);
  bus.publish({ type: "heartbeat", data: sampler.sample() });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "engine shutting down");
    clearInterval(beat);
    sampler.stop();
    replay.stop();
    void sql.close();
    closeStreams();
    server.close(() => {
      logger.info("engine stopped");
      process.exit(0);
    });
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  const logger = createLogger("engine");
  logger.fatal({ err }, "engine failed to start");
  process.exit(1);
});
