/**
 * Dense (fully connected) layer kernels on flat Float64Arrays.
 *
 * Layout (the one the ONNX exporter reads): a layer with `nIn` inputs and `nOut` outputs keeps its
 * weight matrix W at params[wOff .. wOff + nIn*nOut) as an nIn x nOut row-major matrix
 * (W[i][j] = params[wOff + i*nOut + j], i = input, j = output — ONNX MatMul(x, W) orientation, i.e. the
 * transpose of torch.nn.Linear.weight), and its bias at params[bOff .. bOff + nOut).
 * Activations are batch-major: x[b*nIn + i], y[b*nOut + j].
 *
 *   y = x W + b
 *
 * The loops are register-tiled (2 rows x 4 outputs for batches, 1 x 4 for a single row), which
 * measured ~2.3 G multiply-adds/s on this machine against ~0.6 for the naive loops. Float64 is used
 * throughout: JavaScript arithmetic is double precision anyway, Float32Array loads/stores measured no
 * faster here, and float64 lets the gradient tests check against finite differences to 1e-6.
 */

export type Vec = Float64Array;

/** y[0 .. batch*nOut) = x W + b. */
export function denseForward(p: Vec, wOff: number, bOff: number, x: Vec, y: Vec, batch: number, nIn: number, nOut: number): void {
  const n4 = nOut & ~3;
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const x0 = b * nIn,
      x1 = x0 + nIn,
      y0 = b * nOut,
      y1 = y0 + nOut;
    let j = 0;
    for (; j < n4; j += 4) {
      let s00 = p[bOff + j]!,
        s01 = p[bOff + j + 1]!,
        s02 = p[bOff + j + 2]!,
        s03 = p[bOff + j + 3]!;
      let s10 = s00,
        s11 = s01,
        s12 = s02,
        s13 = s03;
      for (let i = 0, w = wOff + j; i < nIn; i++, w += nOut) {
        const w0 = p[w]!,
          w1 = p[w + 1]!,
          w2 = p[w + 2]!,
          w3 = p[w + 3]!;
        let a = x[x0 + i]!;
        s00 += a * w0;
        s01 += a * w1;
        s02 += a * w2;
        s03 += a * w3;
        a = x[x1 + i]!;
        s10 += a * w0;
        s11 += a * w1;
        s12 += a * w2;
        s13 += a * w3;
      }
      y[y0 + j] = s00;
      y[y0 + j + 1] = s01;
      y[y0 + j + 2] = s02;
      y[y0 + j + 3] = s03;
      y[y1 + j] = s10;
      y[y1 + j + 1] = s11;
      y[y1 + j + 2] = s12;
      y[y1 + j + 3] = s13;
    }
    for (; j < nOut; j++) {
      let s0 = p[bOff + j]!,
        s1 = s0;
      for (let i = 0, w = wOff + j; i < nIn; i++, w += nOut) {
        const wv = p[w]!;
        s0 += x[x0 + i]! * wv;
        s1 += x[x1 + i]! * wv;
      }
      y[y0 + j] = s0;
      y[y1 + j] = s1;
    }
  }
  if (b < batch) denseForwardRow(p, wOff, bOff, x, b * nIn, y, b * nOut, nIn, nOut);
}

/** One row: y[yo .. yo+nOut) = x[xo .. xo+nIn) W + b. */
export function denseForwardRow(p: Vec, wOff: number, bOff: number, x: Vec, xo: number, y: Vec, yo: number, nIn: number, nOut: number): void {
  const n8 = nOut & ~7;
  let j = 0;
  for (; j < n8; j += 8) {
    let s0 = p[bOff + j]!,
      s1 = p[bOff + j + 1]!,
      s2 = p[bOff + j + 2]!,
      s3 = p[bOff + j + 3]!,
      s4 = p[bOff + j + 4]!,
      s5 = p[bOff + j + 5]!,
      s6 = p[bOff + j + 6]!,
      s7 = p[bOff + j + 7]!;
    for (let i = 0, w = wOff + j; i < nIn; i++, w += nOut) {
      const a = x[xo + i]!;
      s0 += a * p[w]!;
      s1 += a * p[w + 1]!;
      s2 += a * p[w + 2]!;
      s3 += a * p[w + 3]!;
      s4 += a * p[w + 4]!;
      s5 += a * p[w + 5]!;
      s6 += a * p[w + 6]!;
      s7 += a * p[w + 7]!;
    }
    y[yo + j] = s0;
    y[yo + j + 1] = s1;
    y[yo + j + 2] = s2;
    y[yo + j + 3] = s3;
    y[yo + j + 4] = s4;
    y[yo + j + 5] = s5;
    y[yo + j + 6] = s6;
    y[yo + j + 7] = s7;
  }
  for (; j < nOut; j++) {
    let s = p[bOff + j]!;
    for (let i = 0, w = wOff + j; i < nIn; i++, w += nOut) s += x[xo + i]! * p[w]!;
    y[yo + j] = s;
  }
}

/**
 * Backward of y = x W + b for upstream gradient dy (batch x nOut):
 *   g[W] = g[W]! + x^T dy,  g[b] = g[b]! + sum_b dy,  and, when dx is given, dx = dy W^T (overwritten).
 * Parameter gradients ACCUMULATE into g (same layout and offsets as p).
 */
export function denseBackward(p: Vec, g: Vec, wOff: number, bOff: number, x: Vec, dy: Vec, dx: Vec | null, batch: number, nIn: number, nOut: number): void {
  // bias
  for (let b = 0; b < batch; b++) {
    const o = b * nOut;
    for (let j = 0; j < nOut; j++) g[bOff + j] = g[bOff + j]! + dy[o + j]!;
  }
  // weights: tiles of 2 inputs x 4 outputs, summing over the batch
  const n4 = nOut & ~3;
  let i = 0;
  for (; i + 2 <= nIn; i += 2) {
    let j = 0;
    for (; j < n4; j += 4) {
      let a00 = 0,
        a01 = 0,
        a02 = 0,
        a03 = 0,
        a10 = 0,
        a11 = 0,
        a12 = 0,
        a13 = 0;
      for (let b = 0, xo = i, yo = j; b < batch; b++, xo += nIn, yo += nOut) {
        const x0 = x[xo]!,
          x1 = x[xo + 1]!;
        const d0 = dy[yo]!,
          d1 = dy[yo + 1]!,
          d2 = dy[yo + 2]!,
          d3 = dy[yo + 3]!;
        a00 += x0 * d0;
        a01 += x0 * d1;
        a02 += x0 * d2;
        a03 += x0 * d3;
        a10 += x1 * d0;
        a11 += x1 * d1;
        a12 += x1 * d2;
        a13 += x1 * d3;
      }
      const w0 = wOff + i * nOut + j,
        w1 = w0 + nOut;
      g[w0] = g[w0]! + a00;
      g[w0 + 1] = g[w0 + 1]! + a01;
      g[w0 + 2] = g[w0 + 2]! + a02;
      g[w0 + 3] = g[w0 + 3]! + a03;
      g[w1] = g[w1]! + a10;
      g[w1 + 1] = g[w1 + 1]! + a11;
      g[w1 + 2] = g[w1 + 2]! + a12;
      g[w1 + 3] = g[w1 + 3]! + a13;
    }
    for (; j < nOut; j++) {
      let a0 = 0,
        a1 = 0;
      for (let b = 0, xo = i, yo = j; b < batch; b++, xo += nIn, yo += nOut) {
        const d = dy[yo]!;
        a0 += x[xo]! * d;
        a1 += x[xo + 1]! * d;
      }
      g[wOff + i * nOut + j] = g[wOff + i * nOut + j]! + a0;
      g[wOff + (i + 1) * nOut + j] = g[wOff + (i + 1) * nOut + j]! + a1;
    }
  }
  for (; i < nIn; i++) {
    for (let j = 0; j < nOut; j++) {
      let a = 0;
      for (let b = 0, xo = i, yo = j; b < batch; b++, xo += nIn, yo += nOut) a += x[xo]! * dy[yo]!;
      g[wOff + i * nOut + j] = g[wOff + i * nOut + j]! + a;
    }
  }
  if (dx) denseBackwardInput(p, wOff, dy, dx, batch, nIn, nOut);
}

/** dx = dy W^T (overwrites dx[0 .. batch*nIn)). Tiles of 2 rows x 4 inputs. */
export function denseBackwardInput(p: Vec, wOff: number, dy: Vec, dx: Vec, batch: number, nIn: number, nOut: number): void {
  const n4 = nIn & ~3;
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const d0 = b * nOut,
      d1 = d0 + nOut,
      x0 = b * nIn,
      x1 = x0 + nIn;
    let i = 0;
    for (; i < n4; i += 4) {
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      const r0 = wOff + i * nOut,
        r1 = r0 + nOut,
        r2 = r1 + nOut,
        r3 = r2 + nOut;
      for (let j = 0; j < nOut; j++) {
        const w0 = p[r0 + j]!,
          w1 = p[r1 + j]!,
          w2 = p[r2 + j]!,
          w3 = p[r3 + j]!;
        let d = dy[d0 + j]!;
        s00 += d * w0;
        s01 += d * w1;
        s02 += d * w2;
        s03 += d * w3;
        d = dy[d1 + j]!;
        s10 += d * w0;
        s11 += d * w1;
        s12 += d * w2;
        s13 += d * w3;
      }
      dx[x0 + i] = s00;
      dx[x0 + i + 1] = s01;
      dx[x0 + i + 2] = s02;
      dx[x0 + i + 3] = s03;
      dx[x1 + i] = s10;
      dx[x1 + i + 1] = s11;
      dx[x1 + i + 2] = s12;
      dx[x1 + i + 3] = s13;
    }
    for (; i < nIn; i++) {
      let s0 = 0,
        s1 = 0;
      const r = wOff + i * nOut;
      for (let j = 0; j < nOut; j++) {
        const w = p[r + j]!;
        s0 += dy[d0 + j]! * w;
        s1 += dy[d1 + j]! * w;
      }
      dx[x0 + i] = s0;
      dx[x1 + i] = s1;
    }
  }
  for (; b < batch; b++) {
    const d0 = b * nOut,
      x0 = b * nIn;
    for (let i = 0; i < nIn; i++) {
      let s = 0;
      const r = wOff + i * nOut;
      for (let j = 0; j < nOut; j++) s += dy[d0 + j]! * p[r + j]!;
      dx[x0 + i] = s;
    }
  }
}
