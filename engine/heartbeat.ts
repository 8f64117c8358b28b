/**
 * Samples the engine process's own health once a second: CPU share, memory,
 * and the 99th percentile of event-loop delay since the previous sample.
 */
import { availableParallelism } from "node:os";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { HeartbeatData } from "./events";

const RESOLUTION_MS = 10;

export class ProcessSampler {
  private readonly histogram: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastWall = process.hrtime.bigint();
  private readonly startedAtMs = Date.now();

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
  }

  sample(): HeartbeatData {
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    const cpuMicros = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const wallMicros = Number(wall - this.lastWall) / 1000;
    this.lastCpu = cpu;
    this.lastWall = wall;
    const mem = process.memoryUsage();
    // The histogram records whole timer intervals; the lag is what exceeds the sampling interval.
    const lagNs = this.histogram.count > 0 ? Math.max(0, this.histogram.percentile(99) - RESOLUTION_MS * 1e6) : 0;
    this.histogram.reset();
    return {
      pid: process.pid,
      startedAt: new Date(this.startedAtMs).toISOString(),
      uptimeS: Math.round(process.uptime() * 10) / 10,
      cpuPct: wallMicros > 0 ? Math.round((cpuMicros / wallMicros) * 1000) / 10 : 0,
      cores: availableParallelism(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      loopLagP99Ms: Math.round(lagNs / 1e4) / 100,
    };
  }

  stop(): void {
    this.histogram.disable();
  }
}
