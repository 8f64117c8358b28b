/**
 * Worker threads that run engine TypeScript. The engine runs under tsx, but a
 * worker thread does not inherit tsx's loader, so a worker's entry file is
 * bundled once with esbuild into plain JavaScript (cached in memory and on
 * disk, keyed by the sources' contents) and started as an eval'd worker.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker, type WorkerOptions } from "node:worker_threads";

const memo = new Map<string, Promise<string>>();

async function bundle(entry: string): Promise<string> {
  const esbuild = await import("esbuild");
  // first pass: which files are in the bundle, to key the cache on their contents
  const meta = await esbuild.build({ entryPoints: [entry], bundle: true, platform: "node", format: "cjs", target: "node20", write: false, metafile: true, logLevel: "silent", external: ["better-sqlite3", "pg"] });
  const h = createHash("sha256");
  for (const f of Object.keys(meta.metafile!.inputs).sort()) h.update(f).update(readFileSync(f));
  const dir = join(tmpdir(), "tradeforge-workers");
  const file = join(dir, `${h.digest("hex").slice(0, 24)}.cjs`);
  if (existsSync(file)) return readFileSync(file, "utf8");
  const code = meta.outputFiles![0]!.text;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, code);
  } catch {
    // a read-only temp dir only costs the cache
  }
  return code;
}

/** The bundled JavaScript of a worker entry file (absolute path). */
export function workerCode(entry: string): Promise<string> {
  let p = memo.get(entry);
  if (!p) {
    p = bundle(entry);
    memo.set(entry, p);
    p.catch(() => memo.delete(entry));
  }
  return p;
}

export async function startWorker(entry: string, opts: Omit<WorkerOptions, "eval"> = {}): Promise<Worker> {
  return new Worker(await workerCode(entry), { ...opts, eval: true });
}
