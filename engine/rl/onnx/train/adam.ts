/**
 * Optimiser graph fragments over flat vectors (all [P]):
 *
 *   global gradient-norm clipping (torch.nn.utils.clip_grad_norm_):
 *     norm = ||g||_2;  g *= min(1, max_norm / (norm + 1e-6))      (max_norm = +inf: no clipping)
 *
 *   Adam (torch.optim.Adam, non-amsgrad, no weight decay; engine/rl/nn/optim.ts):
 *     t = step + 1
 *     m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
 *     p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * The step count, lr, betas and eps are scalar graph inputs, so one session
 * serves a whole run (learning-rate annealing included). They are DOUBLE
 * inputs even in a float32 graph (./encode.ts markDouble), and the scalar
 * coefficients (1 - b1, 1 - b2, the bias corrections, lr / (1 - b1^t)) are
 * computed in double and then cast, as torch computes them in Python floats:
 * fed as float32, 0.999 becomes 0.99900001 and 1 - b2 would be off by 1.3e-5
 * (relative).
 */
import type { Graph } from "../graph";
import { markDouble } from "./encode";
import { Ops } from "./ops";

export interface AdamInputs {
  step: string;
  lr: string;
  beta1: string;
  beta2: string;
  eps: string;
}

export const ADAM_DEFAULTS = { lr: 2.5e-4, beta1: 0.9, beta2: 0.999, eps: 1e-5 } as const;

/** Declare the Adam scalar inputs (step, lr, beta1, beta2, eps). */
export function adamInputs(g: Graph): AdamInputs {
  const h = {
    step: g.input("step", "float32", []),
    lr: g.input("lr", "float32", []),
    beta1: g.input("beta1", "float32", []),
    beta2: g.input("beta2", "float32", []),
    eps: g.input("eps", "float32", []),
  };
  markDouble(g, ...Object.values(h));
  return h;
}

/** Clip the flat gradient's global L2 norm to `maxNorm` (a scalar value). Returns the clipped gradient and the norm before clipping. */
export function appendGradClip(g: Graph, grad: string, maxNorm: string): { grad: string; norm: string } {
  const o = new Ops(g);
  const norm = o.sqrt(o.sumSquares(grad));
  const coef = o.min(o.div(maxNorm, o.add(norm, o.scalar(1e-6))), o.scalar(1));
  return { grad: o.mul(grad, coef), norm };
}

/**
 * One Adam update of flat params with flat grad; returns the new params,
 * moments and step count (`step` is a DOUBLE value: mark it with markDouble
 * if it becomes a graph output).
 */
export function appendAdam(g: Graph, p: { params: string; grad: string; m: string; v: string }, h: AdamInputs): { params: string; m: string; v: string; step: string } {
  const o = new Ops(g);
  // scalar coefficients, in double
  const one = o.scalar(1);
  markDouble(g, one);
  const t = o.add(h.step, one);
  const f = (x: string) => o.castFloat(x);
  const b1 = f(h.beta1);
  const c1 = f(o.sub(one, h.beta1));
  const b2 = f(h.beta2);
  const c2 = f(o.sub(one, h.beta2));
  const stepSize = f(o.div(h.lr, o.sub(one, o.pow(h.beta1, t))));
  const bc2Sqrt = f(o.sqrt(o.sub(one, o.pow(h.beta2, t))));
  const eps = f(h.eps);
  // vectors, in the graph's precision
  const m = o.add(o.mul(b1, p.m), o.mul(c1, p.grad));
  const v = o.add(o.mul(b2, p.v), o.mul(c2, o.mul(p.grad, p.grad)));
  const denom = o.add(o.div(o.sqrt(v), bc2Sqrt), eps);
  const params = o.sub(p.params, o.mul(stepSize, o.div(m, denom)));
  return { params, m, v, step: t };
}
