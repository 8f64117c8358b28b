import pino, { type Logger } from "pino";

/** Structured JSON logs. Secret-bearing fields are redacted wherever they appear. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["password", "*.password", "secret", "*.secret", "authorization", "*.authorization", "headers.authorization", "*.headers.authorization", "passwordHash", "*.passwordHash"],
      censor: "[redacted]",
    },
  });
}
