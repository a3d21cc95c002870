#!/usr/bin/env python3
"""A small PyTorch implementation of BP(lambda)'s LSTM cell mode, instrumented to write a bplambda-trace/1.1 file.

The configuration is the paper's seq-MNIST one (spec sections 6.3 and 8.9): the synthesiser u_t = W s_{t-1} + b
(H x 2H) predicts dL_{>=t}/dc_t from the state before step t; beta = 0.1; each synthesiser tensor's batch-mean update
is clipped to norm 1 at every step; softmax cross-entropy on a class label at the last step; and, as in the authors'
code, every derivative is taken of the batch-mean loss, so the synthesiser learns gradients 1/B as large as the
example's own (the trace declares "targetScale": 1/B). Written independently of bplambda: autograd Jacobians and
explicit loops, per example, with the conventions an existing implementation has. Then check it:

    /usr/bin/python3 examples/pytorch/cell_mode.py --out /tmp/cell.json
    bplambda verify /tmp/cell.json

What is recorded, and how it maps onto the trace (docs/verification.md, "Instrumenting an implementation"):
- eps_t = dL_batch/dh_t: carries the batch mean's 1/B (an example's own gradient times c = 1/B);
- u_t, the TD errors, lambda-targets and updates are at that scale, as the trace's targetScale says;
- the learning signal this code applies, eps_t + beta u_{t+1} D_{t+1}, is c times the trace's l_t + (beta/c) u D:
  it is divided by c when written;
- per-example quantities (states, u, TD errors, targets, signals) are written per example; the network gradients
  are the sum over the batch of gradients of the batch-mean loss, which is the trace's mean over examples.
"""
import argparse
import json

import torch
from torch.autograd.functional import jacobian

B, I, H, O, T = 4, 3, 3, 4, 6
GAMMA, LAM, BETA, CLIP = 0.9, 1.0, 0.1, 1.0


def lstm_step(P, h, c, x):
    z = P["W_ih"] @ x + P["W_hh"] @ h + P["b"]
    i, f, g, o = torch.sigmoid(z[:H]), torch.sigmoid(z[H : 2 * H]), torch.tanh(z[2 * H : 3 * H]), torch.sigmoid(z[3 * H :])
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new, o


def make_case(seed):
    g = torch.Generator().manual_seed(seed)
    u = lambda *shape, s=1.0: torch.round((torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * s * 1e4) / 1e4
    P = {"W_ih": u(4 * H, I, s=1.5), "W_hh": u(4 * H, H, s=1.0), "b": u(4 * H, s=0.5), "W_out": u(O, H, s=3.0), "b_out": u(O, s=0.2)}
    theta = {"W": u(H, 2 * H, s=3.0), "b": u(H, s=1.0)}
    xs = u(B, T, I, s=2.0)
    labels = torch.randint(0, O, (B,), generator=g)
    return P, theta, xs, labels


def clip(v):
    n = torch.linalg.norm(v)
    return v * (CLIP / n) if n > CLIP else v


def run(P, theta, xs, labels):
    c_scale = 1.0 / B
    Pg = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    W, bs = theta["W"], theta["b"]
    S = 2 * H
    per = []  # per example: states, u, m, C, D, eps, grad-of-u rows
    loss_total = torch.zeros((), dtype=torch.float64)
    for b in range(B):
        h = torch.zeros(H, dtype=torch.float64)
        c = torch.zeros(H, dtype=torch.float64)
        rec = {"s": [], "u": [], "m": [], "C": [], "D": [], "eps": [], "inp": []}
        psi_prev = torch.zeros(H, dtype=torch.float64)
        for t in range(T):
            s_prev = torch.cat([h, c]).detach()
            rec["inp"].append(s_prev)
            rec["u"].append(W @ s_prev + bs)  # u_t = g(s_{t-1})
            # Jacobians of c_t with respect to h_{t-1} and c_{t-1} (autograd): D_t and the direct part diag(f_t).
            Dt, Ct_direct = jacobian(lambda hh, cc: lstm_step(P, hh, cc, xs[b, t])[1], (h.detach(), c.detach()))
            rec["D"].append(Dt)
            rec["C"].append(Ct_direct + Dt * psi_prev[None, :])  # C_t = dc_t/dc_{t-1} + D_t diag(psi_{t-1})
            h_new, c_new, o = lstm_step(P, h.detach(), c.detach(), xs[b, t])
            psi = o * (1 - torch.tanh(c_new) ** 2)
            hv = h_new.detach().requires_grad_(True)
            eps = torch.zeros(H, dtype=torch.float64)
            if t == T - 1:  # the class label at the last step; the batch-mean loss, as nn.CrossEntropyLoss does
                y = P["W_out"] @ hv + P["b_out"]
                Lb = torch.nn.functional.cross_entropy(y[None, :], labels[b : b + 1]) / B
                (eps,) = torch.autograd.grad(Lb, hv)
                loss_total = loss_total + Lb.detach()
            rec["eps"].append(eps)
            rec["m"].append(eps * psi.detach())
            rec["s"].append(torch.cat([h_new, c_new]).detach())
            h, c, psi_prev = h_new.detach(), c_new.detach(), psi.detach()
        per.append(rec)

    def grad_u(s_prev):  # d u / d theta, theta flattened as W row-major then b: H x (H*S + H)
        G = torch.zeros(H, H * S + H, dtype=torch.float64)
        for i in range(H):
            G[i, i * S : (i + 1) * S] = s_prev
            G[i, H * S + i] = 1.0
        return G

    td, targets, fv, signals = [], [], [], []
    steps = [torch.zeros(H * S + H, dtype=torch.float64) for _ in range(T)]
    for rec in per:
        u, m, C, D = rec["u"], rec["m"], rec["C"], rec["D"]
        d = [m[t] + GAMMA * (u[t + 1] @ C[t + 1]) - u[t] for t in range(T - 1)] + [m[T - 1] - u[T - 1]]
        tgt = [None] * T
        tgt[T - 1] = m[T - 1]
        for t in range(T - 2, -1, -1):
            tgt[t] = m[t] + GAMMA * (((1 - LAM) * u[t + 1] + LAM * tgt[t + 1]) @ C[t + 1])
        E = None
        for t in range(T):
            gu = grad_u(rec["inp"][t])
            E = gu if E is None else GAMMA * LAM * (C[t] @ E) + gu
            steps[t] = steps[t] + (d[t] @ E) / B  # batch mean of delta_t E_t
        fv.append(sum((tgt[t] - u[t]) @ grad_u(rec["inp"][t]) for t in range(T)))
        # The learning signal this code applies (eps carries 1/B), written at the trace's per-example scale.
        sig = [rec["eps"][t] + BETA * (u[t + 1] @ D[t + 1]) for t in range(T - 1)] + [rec["eps"][T - 1]]
        signals.append([x / c_scale for x in sig])
        td.append(d)
        targets.append(tgt)
    # The per-step clip of each tensor's batch-mean update.
    split = lambda v: (v[: H * S].reshape(H, S), v[H * S :])
    clipped = [tuple(clip(x) for x in split(v)) for v in steps]
    update = (sum(w for w, _ in clipped), sum(b for _, b in clipped))
    fv_mean = sum(fv) / B

    # Network gradients: BPTT of the batch-mean loss; and the cell mode's e-prop gradient, from a surrogate whose
    # h_{t-1} is detached (e-prop follows c_{t-1} -> c_t only), driven by this code's learning signals.
    bptt_loss = torch.zeros((), dtype=torch.float64)
    sg_obj = torch.zeros((), dtype=torch.float64)
    for b, rec in enumerate(per):
        h = torch.zeros(H, dtype=torch.float64)
        c = torch.zeros(H, dtype=torch.float64)
        ce = torch.zeros(H, dtype=torch.float64)
        he = torch.zeros(H, dtype=torch.float64)
        for t in range(T):
            h, c, _ = lstm_step(Pg, h, c, xs[b, t])
            he, ce, _ = lstm_step(Pg, rec["s"][t - 1][:H] if t > 0 else torch.zeros(H, dtype=torch.float64), ce, xs[b, t])
            sg_obj = sg_obj + torch.dot(signals[b][t] * c_scale, he)
        y = Pg["W_out"] @ h + Pg["b_out"]
        Lb = torch.nn.functional.cross_entropy(y[None, :], labels[b : b + 1]) / B
        bptt_loss = bptt_loss + Lb
        # The readout's own gradient, on the detached last state.
        sg_obj = sg_obj + torch.nn.functional.cross_entropy((Pg["W_out"] @ rec["s"][T - 1][:H] + Pg["b_out"])[None, :], labels[b : b + 1]) / B
    names = list(Pg)
    bptt = dict(zip(names, torch.autograd.grad(bptt_loss, [Pg[k] for k in names])))
    sg = dict(zip(names, torch.autograd.grad(sg_obj, [Pg[k] for k in names])))

    L = lambda v: v.tolist()
    computed = {
        "loss": float(loss_total),
        "states": [[L(s) for s in rec["s"]] for rec in per],
        "syntheticGradients": [[L(x) for x in rec["u"]] for rec in per],
        "lambdaTargets": [[L(x) for x in tg] for tg in targets],
        "tdErrors": [[L(x) for x in d] for d in td],
        "synthesiserUpdatePerStep": [{"W": L(w), "b": L(b)} for w, b in clipped],
        "synthesiserUpdate": {"W": L(update[0]), "b": L(update[1])},
        "forwardViewUpdate": {"W": L(split(fv_mean)[0]), "b": L(split(fv_mean)[1])},
        "bpttGradients": {k: L(v) for k, v in bptt.items()},
        "sgGradients": {k: L(v) for k, v in sg.items()},
        "learningSignals": [[L(x) for x in s] for s in signals],
    }
    fired = sum(1 for v in steps for x in split(v) if torch.linalg.norm(x) > CLIP)
    return computed, fired


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="output file (default: standard output)")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    P, theta, xs, labels = make_case(args.seed)
    computed, fired = run(P, theta, xs, labels)
    trace = {
        "format": "bplambda-trace/1.1",
        "producer": f"examples/pytorch/cell_mode.py (PyTorch {torch.__version__}; the clip fired on {fired} step tensors)",
        "precision": "float64",
        "method": {"kind": "bp-lambda", "mode": "cell", "beta": BETA, "synthClip": CLIP},
        "loss": {"kind": "xent", "reduction": "sum"},
        "targetScale": 1.0 / B,
        "batch": {
            "cell": {"type": "lstm"},
            "params": {k: v.tolist() for k, v in P.items()},
            "synthesiser": {k: v.tolist() for k, v in theta.items()},
            "examples": [{"inputs": xs[b].tolist(), "targets": [None] * (T - 1) + [int(labels[b])]} for b in range(B)],
            "gamma": GAMMA,
            "lambda": LAM,
        },
        "computed": computed,
    }
    text = json.dumps(trace)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
