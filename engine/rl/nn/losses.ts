/**
 * Output heads and losses with their gradients, on flat batch-major Float64Arrays.
 * Every forward has a matching backward; all are checked against central finite differences in
 * losses.test.ts. Conventions: `B` rows, `A` columns (actions); gradients are written (not
 * accumulated) unless a function says otherwise.
 */
import type { Vec } from "./dense";

// ---------------------------------------------------------------- softmax family

/** out[b, :] = log softmax(z[b, :]) (max-shifted, stable). out may alias z. */
export function logSoftmax(z: Vec, out: Vec, B: number, A: number): void {
  for (let b = 0, o = 0; b < B; b++, o += A) {
    let mx = -Infinity;
    for (let k = 0; k < A; k++) if (z[o + k]! > mx) mx = z[o + k]!;
    let s = 0;
    for (let k = 0; k < A; k++) s += Math.exp(z[o + k]! - mx);
    const lse = mx + Math.log(s);
    for (let k = 0; k < A; k++) out[o + k] = z[o + k]! - lse;
  }
}

/** dz = dlogp - softmax * sum(dlogp), given logp = logSoftmax(z). */
export function logSoftmaxBackward(logp: Vec, dLogp: Vec, dz: Vec, B: number, A: number): void {
  for (let b = 0, o = 0; b < B; b++, o += A) {
    let s = 0;
    for (let k = 0; k < A; k++) s += dLogp[o + k]!;
    for (let k = 0; k < A; k++) dz[o + k] = dLogp[o + k]! - Math.exp(logp[o + k]!) * s;
  }
}

/** out[b, :] = softmax(z[b, :]). out may alias z. */
export function softmax(z: Vec, out: Vec, B: number, A: number): void {
  logSoftmax(z, out, B, A);
  for (let k = 0, n = B * A; k < n; k++) out[k] = Math.exp(out[k]!);
}

/** dz = p * (dp - sum(p * dp)), given p = softmax(z). */
export function softmaxBackward(p: Vec, dp: Vec, dz: Vec, B: number, A: number): void {
  for (let b = 0, o = 0; b < B; b++, o += A) {
    let s = 0;
    for (let k = 0; k < A; k++) s += p[o + k]! * dp[o + k]!;
    for (let k = 0; k < A; k++) dz[o + k] = p[o + k]! * (dp[o + k]! - s);
  }
}

// ---------------------------------------------------------------- categorical distribution

/**
 * For logits z (B x A): logp (B x A, written), the log-probability of each row's action
 * (logProb[b] = logp[b, actions[b]]) and the entropy H[b] = -sum p log p. logp may alias z.
 */
export function categoricalForward(z: Vec, actions: Int32Array, logp: Vec, logProb: Vec, entropy: Vec | null, B: number, A: number): void {
  logSoftmax(z, logp, B, A);
  for (let b = 0, o = 0; b < B; b++, o += A) {
    logProb[b] = logp[o + actions[b]!]!;
    if (entropy) {
      let h = 0;
      for (let k = 0; k < A; k++) {
        const lp = logp[o + k]!;
        h -= lp > -Infinity ? Math.exp(lp) * lp : 0;
      }
      entropy[b] = h;
    }
  }
}

/**
 * Gradient of sum_b (dLogProb[b] * logProb[b] + dEntropy[b] * H[b]) with respect to the logits:
 *   d logp_a / dz_k = [k = a] - p_k,      dH / dz_k = -p_k (log p_k + H).
 * Needs logp and entropy from categoricalForward; dEntropy may be null (no entropy term).
 */
export function categoricalBackward(
  logp: Vec,
  actions: Int32Array,
  entropy: Vec | null,
  dLogProb: Vec,
  dEntropy: Vec | null,
  dz: Vec,
  B: number,
  A: number,
): void {
  for (let b = 0, o = 0; b < B; b++, o += A) {
    const gl = dLogProb[b]!;
    const ge = dEntropy ? dEntropy[b]! : 0;
    const h = ge !== 0 ? entropy![b]! : 0;
    const a = actions[b]!;
    for (let k = 0; k < A; k++) {
      const lp = logp[o + k]!;
      const p = Math.exp(lp);
      let g = -gl * p;
      if (k === a) g += gl;
      if (ge !== 0 && p > 0) g -= ge * p * (lp + h);
      dz[o + k] = g;
    }
  }
}

/** Samples one action per row from logits z (B x A) using uniforms u (one per row). Writes logProb. */
export function sampleCategorical(z: Vec, B: number, A: number, u: (b: number) => number, actions: Int32Array, logProb: Vec, scratch: Vec): void {
  logSoftmax(z, scratch, B, A);
  for (let b = 0, o = 0; b < B; b++, o += A) {
    const r = u(b);
    let c = 0;
    let a = A - 1;
    for (let k = 0; k < A; k++) {
      c += Math.exp(scratch[o + k]!);
      if (r < c) {
        a = k;
        break;
      }
    }
    actions[b] = a;
    logProb[b] = scratch[o + a]!;
  }
}

/** Index of the largest entry of each row (first on ties), written to out. */
export function argmaxRows(z: Vec, B: number, A: number, out: Int32Array): void {
  for (let b = 0, o = 0; b < B; b++, o += A) {
    let best = 0;
    let bv = z[o]!;
    for (let k = 1; k < A; k++)
      if (z[o + k]! > bv) {
        bv = z[o + k]!;
        best = k;
      }
    out[b] = best;
  }
}

// ---------------------------------------------------------------- regression losses

/** mean((pred - target)^2) over n; writes d/dpred to grad when given (2 (pred - target) / n). */
export function mse(pred: Vec, target: Vec, n: number, grad: Vec | null = null): number {
  let s = 0;
  for (let k = 0; k < n; k++) {
    const d = pred[k]! - target[k]!;
    s += d * d;
    if (grad) grad[k] = (2 * d) / n;
  }
  return s / n;
}

/** mean(smooth_l1(pred - target)) with threshold delta (torch smooth_l1_loss, beta = delta). */
export function huber(pred: Vec, target: Vec, n: number, delta = 1, grad: Vec | null = null): number {
  let s = 0;
  for (let k = 0; k < n; k++) {
    const d = pred[k]! - target[k]!;
    const ad = Math.abs(d);
    if (ad < delta) {
      s += (0.5 * d * d) / delta;
      if (grad) grad[k] = d / delta / n;
    } else {
      s += ad - 0.5 * delta;
      if (grad) grad[k] = (d > 0 ? 1 : -1) / n;
    }
  }
  return s / n;
}

// ---------------------------------------------------------------- PPO

export interface PpoPolicyStats {
  /** mean(max(-A r, -A clip(r, 1-c, 1+c))) */
  loss: number;
  /** mean((r - 1) - log r) — the low-variance KL estimator CleanRL logs */
  approxKl: number;
  /** mean(-log r) */
  oldApproxKl: number;
  /** fraction of rows with |r - 1| > clip */
  clipFrac: number;
}

/**
 * PPO clipped surrogate (CleanRL): r = exp(newLogp - oldLogp),
 * loss = mean(max(-adv r, -adv clip(r, 1-clip, 1+clip))). Writes d(loss)/d(newLogp) to grad:
 * -adv r / n where the unclipped term is the max, else 0 (on a tie the two terms have the same
 * gradient, so this matches torch's tie handling).
 */
export function ppoPolicyLoss(newLogp: Vec, oldLogp: Vec, adv: Vec, n: number, clip: number, grad: Vec | null): PpoPolicyStats {
  let loss = 0,
    kl = 0,
    oldKl = 0,
    clipped = 0;
  for (let k = 0; k < n; k++) {
    const logRatio = newLogp[k]! - oldLogp[k]!;
    const r = Math.exp(logRatio);
    const a = adv[k]!;
    const l1 = -a * r;
    const rc = r < 1 - clip ? 1 - clip : r > 1 + clip ? 1 + clip : r;
    const l2 = -a * rc;
    if (l1 >= l2) {
      loss += l1;
      if (grad) grad[k] = (-a * r) / n;
    } else {
      loss += l2;
      if (grad) grad[k] = 0;
    }
    kl += r - 1 - logRatio;
    oldKl -= logRatio;
    if (Math.abs(r - 1) > clip) clipped++;
  }
  return { loss: loss / n, approxKl: kl / n, oldApproxKl: oldKl / n, clipFrac: clipped / n };
}

/**
 * PPO value loss (CleanRL): with clip: 0.5 mean(max((v - R)^2, (oldV + clamp(v - oldV, -c, c) - R)^2)),
 * without (clip = null): 0.5 mean((v - R)^2). Writes d(loss)/d(v) to grad.
 */
export function ppoValueLoss(v: Vec, oldV: Vec, ret: Vec, n: number, clip: number | null, grad: Vec | null): number {
  let s = 0;
  for (let k = 0; k < n; k++) {
    const d = v[k]! - ret[k]!;
    const lu = d * d;
    if (clip === null) {
      s += lu;
      if (grad) grad[k] = d / n;
      continue;
    }
    const dv = v[k]! - oldV[k]!;
    const dvc = dv < -clip ? -clip : dv > clip ? clip : dv;
    const dc = oldV[k]! + dvc - ret[k]!;
    const lc = dc * dc;
    if (lu >= lc) {
      s += lu;
      if (grad) grad[k] = d / n;
    } else {
      s += lc;
      // d/dv of (oldV + clamp(v - oldV) - R)^2: non-zero only inside the clamp range
      if (grad) grad[k] = dv > -clip && dv < clip ? dc / n : 0;
    }
  }
  return (0.5 * s) / n;
}

/** Mean and unbiased standard deviation (torch .std()) of x[0 .. n). */
export function meanStd(x: Vec, n: number): { mean: number; std: number } {
  let m = 0;
  for (let k = 0; k < n; k++) m += x[k]!;
  m /= n;
  let v = 0;
  for (let k = 0; k < n; k++) v += (x[k]! - m) ** 2;
  return { mean: m, std: n > 1 ? Math.sqrt(v / (n - 1)) : 0 };
}

// ---------------------------------------------------------------- dueling head

/**
 * Dueling combine (Wang et al. 2016): raw rows are [V, A_1 .. A_nA] (B x (nA+1));
 * q[b, a] = V + A_a - mean(A).
 */
export function duelingForward(raw: Vec, q: Vec, B: number, nA: number): void {
  const w = nA + 1;
  for (let b = 0; b < B; b++) {
    const o = b * w;
    let m = 0;
    for (let a = 1; a <= nA; a++) m += raw[o + a]!;
    m /= nA;
    const v = raw[o]!;
    for (let a = 0; a < nA; a++) q[b * nA + a] = v + raw[o + 1 + a]! - m;
  }
}

/** dRaw for duelingForward: dV = sum_a dq_a, dA_a = dq_a - mean(dq). */
export function duelingBackward(dq: Vec, dRaw: Vec, B: number, nA: number): void {
  const w = nA + 1;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let a = 0; a < nA; a++) s += dq[b * nA + a]!;
    dRaw[b * w] = s;
    const m = s / nA;
    for (let a = 0; a < nA; a++) dRaw[b * w + 1 + a] = dq[b * nA + a]! - m;
  }
}
