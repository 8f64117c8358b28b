/** Worker thread: parses and screens one byte range of a CSV (with the header line prepended). */
import { parentPort, workerData } from "node:worker_threads";
import { collectBars, type CsvBarsOptions, pooledFileReader } from "./csv-bars";

const { path, start, end, header, opts } = workerData as { path: string; start: number; end: number; header: string; opts: CsvBarsOptions };

const reader = pooledFileReader(path, start, end);
async function* withHeader(): AsyncGenerator<Uint8Array> {
  yield Buffer.from(header);
  yield* reader.chunks;
}

collectBars(withHeader(), opts, end - start, undefined, reader.release)
  .then((result) => {
    const cols = result.cols.map((c) => (c.length === result.n ? c : c.slice(0, result.n)));
    parentPort!.postMessage({ ok: true, result: { ...result, cols } }, cols.map((c) => c.buffer as ArrayBuffer));
  })
  .catch((e: Error) => parentPort!.postMessage({ ok: false, error: e.message }));
