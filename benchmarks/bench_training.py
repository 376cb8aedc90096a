"""How fast is one training update of the E/I RNN, against the matrix products it cannot avoid?

    .venv/bin/python benchmarks/bench_training.py            # both networks of the brief
    .venv/bin/python benchmarks/bench_training.py --naive    # also a plain autograd loop, for comparison

Two networks from Song, Yang & Wang (2016):

* the perceptual-decision network: N = 100 (80 E / 20 I), batch 20, dt = 20 ms, a 1.2 s trial (60 steps);
* the parametric-working-memory network: N = 500, batch 20, 250 steps (a 5 s trial at dt = 20 ms).

For each, the full update (noise, forward, masked MSE, BPTT with Ω at λ_Ω = 2, clipping, SGD step)
is timed, with the noise drawn inline and drawn ahead on a second thread (as the trainer does), against
the same update's matrix products alone: T recurrent products forward and T
backward, the input projection and its gradient, the recurrent-weight gradient and the readout
products, run back to back on tensors of the same shapes. Timings are medians of interleaved
repeats, so other load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import torch

from agents.models.dynamics import reference_forward
from agents.models.eirnn import EIRNN
from agents.training.loss import masked_mse
from agents.training.presets import PRESETS
from agents.training.trainer import UpdateStep, make_optimizer, threads_for


def setup(n_units: int, n_steps: int, batch: int, n_in: int = 3, n_out: int = 2):
    model = EIRNN(n_in, n_out, n_units=n_units, seed=0)
    settings = PRESETS["pycog"]
    generator = torch.Generator().manual_seed(0)
    step = UpdateStep(model, make_optimizer(model, settings), settings, generator)
    inputs = torch.rand(batch, n_steps, n_in) * 0.6 + 0.2
    targets = torch.full((batch, n_steps, n_out), 0.2)
    mask = torch.ones(batch, n_steps, n_out)
    return model, step, inputs, targets, mask


def matmuls_only(n_units: int, n_steps: int, batch: int, n_in: int = 3, n_out: int = 2):
    """A closure doing exactly the update's matrix products, with the same operand layouts and into preallocated
    buffers where the update writes into its own (so neither side pays for the other's allocations)."""
    w = torch.randn(n_units, n_units) * 0.01
    w_in, w_out = torch.rand(n_units, n_in), torch.rand(n_out, n_units)
    states = torch.zeros(n_steps + 1, batch, n_units)
    deltas = torch.zeros(n_steps + 1, batch, n_units)
    u = torch.rand(n_steps * batch, n_in)
    grad_out = torch.rand(n_steps * batch, n_out)
    xs, ds = states.unbind(0), deltas.unbind(0)
    drive, grad_r = states[1:].view(-1, n_units), deltas[1:].view(-1, n_units)

    def run() -> None:
        torch.mm(u, w_in.t(), out=drive)                        # input projection, all steps
        for t in range(n_steps):                                # forward recurrence
            xs[t + 1].addmm_(xs[t], w)
        flat = states[1:].view(-1, n_units)
        w_out @ flat.t()                                        # readout (as W_out R^T)
        torch.mm(grad_out, w_out, out=grad_r)                   # readout backward (rates)
        grad_out.t() @ flat                                     # readout backward (W_out)
        for t in range(n_steps, 0, -1):                         # backward recurrence
            ds[t - 1].addmm_(ds[t], w)
        grad_r.t() @ flat                                       # recurrent-weight gradient
        u.t() @ grad_r                                          # input-weight gradient (as (u^T δ)^T)
    return run


def naive_update(model: EIRNN, inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, dt: float):
    """The same update written as a plain PyTorch autograd loop (no Ω), for comparison."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def run() -> None:
        alpha = model.alpha(dt)
        w_in, w_rec, w_out = model.weights()
        u = inputs.transpose(0, 1)
        noise = torch.randn(u.shape[0], u.shape[1], model.n_units) * torch.sqrt(2 * alpha) * model.sigma_rec
        outputs, _, _ = reference_forward(u, w_in, model.b_rec, w_rec, model.x0, w_out, model.b_out, alpha, noise)
        loss = masked_mse(outputs.transpose(0, 1), targets, mask)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return run


def timed(fn, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def bench(name: str, n_units: int, n_steps: int, batch: int, rounds: int, per_round: int, naive: bool) -> None:
    torch.set_num_threads(threads_for(n_units, batch))
    model, step, inputs, targets, mask = setup(n_units, n_steps, batch)
    pool = ThreadPoolExecutor(max_workers=1)
    gen = torch.Generator().manual_seed(1)
    pending = [pool.submit(model.draw_noise, batch, n_steps, gen)]

    def prefetched() -> None:                                   # what the trainer does: next noise on another core
        workspace = pending[0].result()
        pending[0] = pool.submit(model.draw_noise, batch, n_steps, gen)
        step(inputs, targets, mask, 20.0, noise_workspace=workspace)

    candidates = {"update": lambda: step(inputs, targets, mask, 20.0), "prefetched": prefetched,
                  "matmuls": matmuls_only(n_units, n_steps, batch)}
    if naive:
        naive_model = EIRNN(3, 2, n_units=n_units, seed=0)
        candidates["naive autograd loop"] = naive_update(naive_model, inputs, targets, mask, 20.0)
    for fn in candidates.values():
        timed(fn, 2)                                            # warm up
    results: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(rounds):
        for key, fn in candidates.items():
            results[key].append(timed(fn, max(1, per_round // (10 if key.startswith("naive") else 1))))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"{name}: N={n_units}, batch={batch}, T={n_steps} steps, threads={torch.get_num_threads()}")
    print(f"  matrix products alone:         {1e3 * med['matmuls']:8.2f} ms  = {1 / med['matmuls']:7.1f} updates/s")
    print(f"  update, noise drawn inline:    {1e3 * med['update']:8.2f} ms  = {1 / med['update']:7.1f} updates/s"
          f"  ratio {med['update'] / med['matmuls']:.2f}")
    print(f"  update, noise drawn ahead:     {1e3 * med['prefetched']:8.2f} ms  = {1 / med['prefetched']:7.1f} "
          f"updates/s  ratio {med['prefetched'] / med['matmuls']:.2f}  (as the trainer runs it)")
    pool.shutdown()
    if naive:
        t = med["naive autograd loop"]
        print(f"  naive autograd loop:           {1e3 * t:8.2f} ms  = {1 / t:7.2f} updates/s (no Ω)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive", action="store_true", help="also time a plain autograd loop")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    bench("perceptual decision", 100, 60, 20, args.rounds, 40, args.naive)
    bench("working memory", 500, 250, 20, args.rounds, 4, args.naive)


if __name__ == "__main__":
    main()
