#!/usr/bin/env python3
"""Compute accumulate BP(lambda) quantities with PyTorch autograd and write a bplambda-trace/1 file.

An implementation of the oracle contract written independently of bplambda, in PyTorch: states by the forward
recursion; BPTT gradients, future gradients and immediate state gradients l_t by autograd; lambda-targets and TD
errors by the backward recursion with autograd vector-Jacobian products; the backward-view synthesiser update with
explicit eligibility traces built from full state Jacobians (torch.autograd.functional.jacobian); the forward-view
update and the synthetic-gradient network gradient by autograd. Then check it with bplambda:

    python3 examples/pytorch/verify_bplambda.py examples/rnn-tanh.json --out /tmp/trace.json
    bplambda verify /tmp/trace.json

INPUT is a case (bplambda-case/1) or a trace (bplambda-trace/1, e.g. a golden file: its case or batch is used and
its computed values are ignored). --dtype float32 (or bfloat16) computes everything in that format and declares
it as the trace's precision, so that bplambda verify applies the matching default tolerances.
"""
import argparse
import json
import math
import sys

import torch
from torch.autograd.functional import jacobian

ACTIVATIONS = {
    "identity": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}


def cell_step(cell, P, s_prev, x):
    """s_t = f(s_{t-1}, x_t). RNN: s = h. LSTM: s = [h; c], gate blocks i, f, g, o of W_ih, W_hh, b."""
    if cell["type"] == "rnn":
        return ACTIVATIONS[cell["activation"]](P["W_in"] @ x + P["W_rec"] @ s_prev + P["b"])
    H = P["W_hh"].shape[1]
    h, c = s_prev[:H], s_prev[H:]
    z = P["W_ih"] @ x + P["W_hh"] @ h + P["b"]
    i, f, g, o = torch.sigmoid(z[:H]), torch.sigmoid(z[H : 2 * H]), torch.tanh(z[2 * H : 3 * H]), torch.sigmoid(z[3 * H :])
    c_new = f * c + i * g
    return torch.cat([o * torch.tanh(c_new), c_new])


def step_loss(P, H, s, y):
    """L_t = 1/2 |W_out h_t + b_out - y_t|^2."""
    return 0.5 * torch.sum((P["W_out"] @ s[:H] + P["b_out"] - y) ** 2)


def vjp(output, inp, v):
    """Row vector v times d output / d inp (a vector-Jacobian product by autograd)."""
    (g,) = torch.autograd.grad(output, inp, grad_outputs=v, retain_graph=True)
    return g


def bp_lambda(case, dtype):
    """Every quantity of the oracle contract for one sequence, as tensors."""
    cell, gamma, lam = case["cell"], case["gamma"], case["lambda"]
    P = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in case["params"].items()}
    W = torch.tensor(case["synthesiser"]["W"], dtype=dtype, requires_grad=True)
    b = torch.tensor(case["synthesiser"]["b"], dtype=dtype, requires_grad=True)
    xs = [torch.tensor(x, dtype=dtype) for x in case["inputs"]]
    ys = [None if y is None else torch.tensor(y, dtype=dtype) for y in case["targets"]]
    T, S, H = len(xs), b.shape[0], P["W_out"].shape[1]
    zero = torch.zeros(S, dtype=dtype)

    # Forward pass, keeping every state in the graph: s[t] for t = 0..T (s[0] = 0).
    s = [zero.clone().requires_grad_(True)]
    for t in range(T):
        s.append(cell_step(cell, P, s[-1], xs[t]))
    L = [None] + [None if ys[t - 1] is None else step_loss(P, H, s[t], ys[t - 1]) for t in range(1, T + 1)]
    loss = sum((Lt for Lt in L[1:] if Lt is not None), torch.zeros((), dtype=dtype))

    # BPTT: dL/dparam by autograd through the unrolled sequence.
    names = list(P)
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, [P[k] for k in names], retain_graph=True, allow_unused=True)
    else:  # no target at any step: L = 0
        grads = [None] * len(names)
    bptt = {k: (g if g is not None else torch.zeros_like(P[k])) for k, g in zip(names, grads)}

    # l_t = dL_t/ds_t (immediate), zero without a target.
    l = [None] + [zero if L[t] is None else vjp(L[t], s[t], torch.ones((), dtype=dtype)) for t in range(1, T + 1)]

    # Future gradients G_t = d(sum_{tau>t} gamma^(tau-t-1) L_tau)/ds_t by autograd, t = 1..T-1.
    G = {}
    for t in range(1, T):
        terms = [gamma ** (tau - t - 1) * L[tau] for tau in range(t + 1, T + 1) if L[tau] is not None]
        G[t] = zero if not terms else vjp(sum(terms), s[t], torch.ones((), dtype=dtype))

    # Synthetic gradients g_t = W s_t + b (t = 1..T-1), as functions of theta (states detached); g_T = 0.
    ghat = {t: W @ s[t].detach() + b for t in range(1, T)}
    gval = {t: ghat[t].detach() for t in range(1, T)}
    gval[T] = zero

    # lambda-targets by the recursion, with v J_{t+1} as a VJP of s_{t+1} with respect to s_t.
    Glam = {T: zero}
    for t in range(T - 1, 0, -1):
        v = l[t + 1] + gamma * ((1 - lam) * gval[t + 1] + lam * Glam[t + 1])
        Glam[t] = vjp(s[t + 1], s[t], v)

    # TD errors delta_t = (l_{t+1} + gamma g_{t+1}) J_{t+1} - g_t.
    delta = {t: vjp(s[t + 1], s[t], l[t + 1] + gamma * gval[t + 1]) - gval[t] for t in range(1, T)}

    # Backward view with explicit traces: E_t = gamma lambda J_t E_{t-1} + d g_t/d theta, theta = (W row-major, b).
    Pd = {k: v.detach() for k, v in P.items()}
    E = torch.zeros(S, S * S + S, dtype=dtype)
    per_step = []
    for t in range(1, T):
        J = jacobian(lambda sp: cell_step(cell, Pd, sp, xs[t - 1]), s[t - 1].detach())  # S x S
        st = s[t].detach()
        dW, db = jacobian(lambda W_, b_: W_ @ st + b_, (W.detach(), b.detach()))  # S x S x S, S x S
        E = gamma * lam * (J @ E) + torch.cat([dW.reshape(S, S * S), db], dim=1)
        u = delta[t] @ E
        per_step.append((u[: S * S].reshape(S, S), u[S * S :]))
    backward = (sum(u[0] for u in per_step), sum(u[1] for u in per_step))

    # Forward view: sum_t (G^lambda_t - g_t) d g_t/d theta, by autograd.
    fw = [torch.zeros_like(W), torch.zeros_like(b)]
    for t in range(1, T):
        gW, gb = torch.autograd.grad(ghat[t], (W, b), grad_outputs=(Glam[t] - gval[t]).detach())
        fw[0] += gW
        fw[1] += gb

    # Synthetic-gradient network gradient: sum_t (l_t + g_t) ds_t/dPsi with s_{t-1} held fixed, plus the readout's
    # immediate gradient.
    surrogate = torch.zeros((), dtype=dtype)
    for t in range(1, T + 1):
        signal = (l[t] + gval[t]).detach()
        surrogate = surrogate + signal @ cell_step(cell, P, s[t - 1].detach(), xs[t - 1])
        if ys[t - 1] is not None:
            surrogate = surrogate + step_loss(P, H, s[t].detach(), ys[t - 1])
    grads = torch.autograd.grad(surrogate, [P[k] for k in names], allow_unused=True)
    sg = {k: (g if g is not None else torch.zeros_like(P[k])) for k, g in zip(names, grads)}

    steps = range(1, T)
    return {
        "loss": loss.detach(),
        "states": torch.stack([s[t].detach() for t in range(1, T + 1)]),
        "futureGradients": torch.stack([G[t] for t in steps]),
        "syntheticGradients": torch.stack([gval[t] for t in steps]),
        "lambdaTargets": torch.stack([Glam[t] for t in steps]),
        "tdErrors": torch.stack([delta[t] for t in steps]),
        "synthesiserUpdatePerStep": [{"W": u[0], "b": u[1]} for u in per_step],
        "synthesiserUpdate": {"W": backward[0], "b": backward[1]},
        "forwardViewUpdate": {"W": fw[0], "b": fw[1]},
        "bpttGradients": bptt,
        "sgGradients": sg,
    }


PER_STEP = ["states", "futureGradients", "syntheticGradients", "lambdaTargets", "tdErrors"]


def mean(values):
    """Element-wise mean over examples of equally shaped nested values (tensors, dicts, lists)."""
    v0 = values[0]
    if isinstance(v0, dict):
        return {k: mean([v[k] for v in values]) for k in v0}
    if isinstance(v0, list):
        return [mean([v[i] for v in values]) for i in range(len(v0))]
    return sum(values) / len(values)


def to_json(x):
    """Tensors to nested lists of Python floats; NaN and infinities as the strings the trace format uses."""
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [to_json(v) for v in x]
    if isinstance(x, torch.Tensor):
        return to_json(x.double().tolist()) if x.dim() > 0 else to_json(float(x))
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="bplambda-case/1 or bplambda-trace/1 JSON file")
    ap.add_argument("--out", help="trace file to write (default: standard output)")
    ap.add_argument("--dtype", choices=["float64", "float32", "bfloat16"], default="float64")
    args = ap.parse_args(argv)
    with open(args.input, encoding="utf-8") as f:
        doc = json.load(f)
    dtype = getattr(torch, args.dtype)

    if doc.get("format") == "bplambda-trace/1":
        key = "case" if "case" in doc else "batch"
        source = doc[key]
    else:
        key, source = "case", doc
    if key == "case":
        computed = bp_lambda(source, dtype)
    else:
        shared = {k: v for k, v in source.items() if k != "examples"}
        results = [bp_lambda({**shared, **ex}, dtype) for ex in source["examples"]]
        computed = {q: (torch.stack([r[q] for r in results]) if q in PER_STEP else mean([r[q] for r in results])) for q in results[0]}

    trace = {
        "format": "bplambda-trace/1",
        "producer": f"examples/pytorch/verify_bplambda.py (PyTorch {torch.__version__})",
        "precision": args.dtype,
        key: source,
        "computed": to_json(computed),
    }
    text = json.dumps(trace, allow_nan=False) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
