/** Worker thread: parses and screens one byte range of a CSV (with the header line prepended). */
import { createReadStream } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { collectBars, type CsvBarsOptions } from "./csv-bars";

const { path, start, end, header, opts } = workerData as { path: string; start: number; end: number; header: string; opts: CsvBarsOptions };

async function* withHeader(): AsyncGenerator<Uint8Array> {
  yield Buffer.from(header);
  yield* createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 });
}

collectBars(withHeader(), opts, end - start)
  .then((result) => {
    const cols = result.cols.map((c) => (c.length === result.n ? c : c.slice(0, result.n)));
    parentPort!.postMessage({ ok: true, result: { ...result, cols } }, cols.map((c) => c.buffer as ArrayBuffer));
  })
  .catch((e: Error) => parentPort!.postMessage({ ok: false, error: e.message }));
