/**
 * The web app's HTTP server: Next.js (production build) behind a thin Node
 * server that fixes the client address. Next keeps a client-sent
 * X-Forwarded-For header as it is, which would let anyone pick the address the
 * sign-in throttle counts against. Here the header is replaced by the socket's
 * address unless TRUST_PROXY is set (then the proxy in front must set it).
 */
import { createServer } from "node:http";
import next from "next";
import { loadEnvOrExit } from "@/engine/runtime/env";

const env = loadEnvOrExit("web");
const app = next({ dev: false, dir: process.cwd(), hostname: env.hostname, port: env.port });
const handle = app.getRequestHandler();

await app.prepare();
const server = createServer((req, res) => {
  if (!env.trustProxy) {
    req.headers["x-forwarded-for"] = req.socket.remoteAddress ?? "unknown";
    delete req.headers["x-real-ip"];
  }
  void handle(req, res);
});
server.listen(env.port, env.hostname, () => {
  process.stdout.write(JSON.stringify({ level: 30, time: new Date().toISOString(), name: "web", msg: `web app listening on http://${env.hostname}:${env.port}`, trustProxy: env.trustProxy }) + "\n");
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // Event streams never go idle: give in-flight requests a moment, then end.
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
