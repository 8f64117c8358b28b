/** The web app's own Prometheus metrics, served at /api/metrics. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

const g = globalThis as unknown as { __tradeforgeMetrics?: { registry: Registry; httpRequests: Counter; streamClients: Gauge } };

function create() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "app_" });
  const httpRequests = new Counter({ name: "app_trpc_requests_total", help: "tRPC requests by procedure and result", labelNames: ["route", "status"], registers: [registry] });
  const streamClients = new Gauge({ name: "app_stream_clients", help: "Browsers connected to the event stream relay", registers: [registry] });
  return { registry, httpRequests, streamClients };
}

g.__tradeforgeMetrics ??= create();
export const { registry, httpRequests, streamClients } = g.__tradeforgeMetrics;
