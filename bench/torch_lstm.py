#!/usr/bin/env python3
"""What a user would pick instead of bplambda, timed on the benchmark's shapes: PyTorch's nn.LSTM with a linear
readout, trained by autograd BPTT (one Adam step a batch), and the machine's matrix-product peak (torch.matmul,
float32 and float64, 1024 x 1024 x 1024). Optional: run by `npm run bench` when Debian's python3-torch is
installed, skipped with a note otherwise. Prints one JSON object per line.

  python3 bench/torch_lstm.py --threads 2 [--batches 10 --warmup 3]

Shapes (as bplambda's paper presets, src/experiments/setup.ts):
  seq-mnist:   LSTM 28 -> 30, readout 30 -> 10, batch 50, T 28, softmax cross-entropy at the last step
  copy-repeat: LSTM 10 -> 100, readout 100 -> 9, batch 100, T 33 (N = R = 5), per-bit BCE with logits at the
               R·N + 1 = 26 target steps N + 2 … T − 1 (src/tasks/copyRepeat.ts)
"""
import argparse
import json
import statistics
import time

import torch

SHAPES = {
    "seq-mnist": dict(I=28, H=30, O=10, B=50, T=28, loss="xent"),
    "copy-repeat": dict(I=10, H=100, O=9, B=100, T=33, loss="bce"),
}


def lstm_bptt(shape, dtype, batches, warmup):
    torch.manual_seed(0)
    I, H, O, B, T = shape["I"], shape["H"], shape["O"], shape["B"], shape["T"]
    lstm = torch.nn.LSTM(I, H, dtype=dtype)
    readout = torch.nn.Linear(H, O, dtype=dtype)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(readout.parameters()), lr=1e-3)
    x = torch.rand(T, B, I, dtype=dtype)
    if shape["loss"] == "xent":
        y = torch.randint(0, O, (B,))
        loss_fn = lambda out: torch.nn.functional.cross_entropy(readout(out[-1]), y)
    else:
        first = 5 + 2  # start delimiter, N = 5 pattern steps, the repeat count: targets from step N + 2 on
        y = torch.randint(0, 2, (T - first, B, O)).to(dtype)
        loss_fn = lambda out: torch.nn.functional.binary_cross_entropy_with_logits(readout(out[first:]), y)
    times = []
    for i in range(warmup + batches):
        t0 = time.perf_counter()
        opt.zero_grad()
        out, _ = lstm(x)
        loss = loss_fn(out)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times)


def matmul_peak(dtype, n=1024, reps=10):
    a = torch.rand(n, n, dtype=dtype)
    b = torch.rand(n, n, dtype=dtype)
    torch.matmul(a, b)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for task, shape in SHAPES.items():
        for dtype, prec in ((torch.float32, 32), (torch.float64, 64)):
            med, best = lstm_bptt(shape, dtype, a.batches, a.warmup)
            print(json.dumps(dict(kind="nn.LSTM BPTT", task=task, precision=prec, threads=a.threads, batch=shape["B"], hidden=shape["H"], steps=shape["T"],
                                  msPerBatch=med, msPerBatchMin=best, torch=torch.__version__)), flush=True)
    for dtype, prec in ((torch.float32, 32), (torch.float64, 64)):
        print(json.dumps(dict(kind="matmul peak", precision=prec, threads=a.threads, n=1024, gflops=matmul_peak(dtype), torch=torch.__version__)), flush=True)


if __name__ == "__main__":
    main()
