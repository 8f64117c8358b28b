/**
 * Optimisation helpers: Adam (torch.optim.Adam semantics), global gradient-norm clipping
 * (torch.nn.utils.clip_grad_norm_), learning-rate / exploration schedules, soft target updates.
 */
import type { Vec } from "./dense";

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  /** added to the denominator; CleanRL's PPO uses 1e-5, torch's default is 1e-8 */
  eps?: number;
  /** L2 penalty added to the gradient (torch Adam weight_decay); default 0 (off) */
  weightDecay?: number;
}

export interface AdamState {
  step: number;
  m: Float64Array;
  v: Float64Array;
}

/**
 * Adam as torch.optim.Adam (non-amsgrad; torch updates m with lerp, the same value up to rounding):
 *   g += wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= (lr / (1 - b1^t)) * (m / (sqrt(v) / sqrt(1 - b2^t) + eps))
 */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  step = 0;
  readonly m: Float64Array;
  readonly v: Float64Array;

  constructor(
    readonly size: number,
    opts: AdamOptions,
  ) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** One update of params from grads (grads are modified only when weightDecay > 0). */
  update(params: Vec, grads: Vec): void {
    if (params.length !== this.size || grads.length !== this.size) throw new RangeError(`Adam: expected ${this.size} parameters and gradients`);
    this.step++;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, m, v } = this;
    const bc1 = 1 - b1 ** this.step;
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.step);
    const stepSize = this.lr / bc1;
    for (let k = 0; k < this.size; k++) {
      let g = grads[k]!;
      if (wd !== 0) g += wd * params[k]!;
      const mk = b1 * m[k]! + (1 - b1) * g;
      const vk = b2 * v[k]! + (1 - b2) * g * g;
      m[k] = mk;
      v[k] = vk;
      params[k] = params[k]! - stepSize * (mk / (Math.sqrt(vk) / bc2Sqrt + eps));
    }
  }

  getState(): AdamState {
    return { step: this.step, m: this.m.slice(), v: this.v.slice() };
  }

  setState(s: AdamState): void {
    if (s.m.length !== this.size || s.v.length !== this.size) throw new RangeError(`Adam state has ${s.m.length} entries, expected ${this.size}`);
    this.step = s.step;
    this.m.set(s.m);
    this.v.set(s.v);
  }
}

/**
 * torch.nn.utils.clip_grad_norm_: total = ||g||_2 over the whole vector; when maxNorm / (total + 1e-6)
 * is below 1 the gradients are scaled by it. Returns the norm before clipping.
 */
export function clipGradNorm(grads: Vec, maxNorm: number): number {
  let s = 0;
  for (let k = 0; k < grads.length; k++) s += grads[k]! * grads[k]!;
  const total = Math.sqrt(s);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (let k = 0; k < grads.length; k++) grads[k] = grads[k]! * coef;
  return total;
}

/** CleanRL's PPO annealing: lr at iteration (1-based) of `total` = lr0 * (1 - (iteration - 1) / total). */
export function linearAnneal(lr0: number, iteration: number, total: number): number {
  return lr0 * (1 - (iteration - 1) / total);
}

/** CleanRL's linear_schedule: from start to end over `duration` steps, then end. */
export function linearSchedule(start: number, end: number, duration: number, t: number): number {
  if (duration <= 0) return end;
  const slope = (end - start) / duration;
  const v = slope * t + start;
  return start >= end ? Math.max(v, end) : Math.min(v, end);
}

/** target = tau * source + (1 - tau) * target (tau = 1: hard copy). */
export function softUpdate(target: Vec, source: Vec, tau: number): void {
  if (tau === 1) {
    target.set(source);
    return;
  }
  for (let k = 0; k < target.length; k++) target[k] = tau * source[k]! + (1 - tau) * target[k]!;
}
