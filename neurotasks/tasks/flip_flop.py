"""The n-bit flip-flop memory task of Sussillo & Barak (2013)."""

from __future__ import annotations

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.rules import TrackingRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_CHANNELS, MAX_TRIAL_STEPS, Task, Trials, check_milliseconds
from neurotasks.timing import Duration


class FlipFlop(Task):
    """Remember the sign of the last pulse on each of n input channels.

    ## Description
    The n-bit flip-flop of Sussillo & Barak (2013), the classic task for reverse-engineering
    a trained network through its fixed points (2^n stable memory states). Each input channel
    emits brief +1 or -1 pulses at random times; the output of the same index must hold the
    sign of the last pulse on its input, ignoring the pulses of the other channels.

    Pulses are drawn independently per channel, from a Poisson process of rate `pulse_rate`
    that sleeps for `pulse_width` after each onset (a dead-time Poisson process), on the step
    grid: the first onset comes at step G, and each next one w + G steps after the previous
    one (w = `pulse_width / dt` rounded, at least 1), every G an independent geometric draw
    with P(G >= g) = exp(-pulse_rate g dt / 1000). So the pulses of a channel never overlap,
    the mean onset-to-onset gap is w + 1 / (exp(pulse_rate dt / 1000) - 1) steps, and the
    realised rate is a little under `pulse_rate` (about 1.95 Hz at the defaults). Each pulse's
    sign is +1 or -1 with probability 1/2, independently of everything else.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `pulse_1` ... `pulse_n` | each pulse (`pulse_width` ms from its onset) | +1 or -1 |

    No input noise by default (`input_noise` adds white noise with per-step sd
    sqrt(2 tau_in/dt) sigma); no baseline, no rectification.

    ## Outputs and actions
    Outputs `bit_1` ... `bit_n`: the sign (+1 or -1) of the last pulse onset on the same
    channel. Mask 0 before the first pulse of a channel and during each pulse (the time given
    to flip); 1 elsewhere. Actions: `Box(-1, 1, (n_bits,))`.

    ## Periods
    trial: `duration` ms (2000).

    ## Rewards
    Each step earns minus the mean squared error over the constrained outputs; no aborts.

    ## Criterion
    Validation RMSE over constrained steps <= 0.1; a trial is correct when its own RMSE is
    <= 0.1. There is no condition grid (every trial is a fresh random pulse train).

    ## Arguments
    `dt` (10 ms), `n_bits` (3; at most 10,000), `pulse_rate` (2 Hz per channel), `pulse_width` (20 ms),
    `duration` (2000 ms; at least `pulse_width`), `input_noise` (0), `tau_in` (100).
    Trial parameter: `n_pulses` (pulses in the trial, all channels). `extras["pulses"]`
    (B, T, n_bits) int8 holds each pulse's sign at its onset step.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Sussillo & Barak (2013) Neural Computation 25: 626, "Opening the black box: low-dimensional
    dynamics in high-dimensional recurrent neural networks" (1000 tanh units, tau 10 ms; far
    fewer units suffice).

    ## Version history
    v0: first version. Pulse trains are now drawn sparsely, as the dead-time process above
    (the same specification; a given seed gives different trials than before).
    """

    id = "FlipFlop-v0"
    summary = "n-bit flip-flop: hold the sign of the last pulse on each channel (Sussillo & Barak 2013)"
    tags = ("memory", "fixed points", "continuous output")
    reference = "Sussillo & Barak 2013"
    period_names = ("trial",)
    action_names = None
    criterion = Criterion("rmse", "<=", 0.1)
    signal_range = (-1.0, 1.0)
    output_range = (-1.0, 1.0)
    # Recurrent noise 0.05 rather than the paper's 0.15: at tau = 20 ms the larger noise swamps the
    # held bits (measured: twice as fast to RMSE 0.11 with 0.05).
    suggested_network = {"n_units": 100, "tau": 20.0, "sigma_rec": 0.05}
    derived_params = {"n_pulses": "it is counted from the trial's random pulse trains, which cannot be forced"}

    def __init__(self, *, dt: float = 10.0, n_bits: int = 3, pulse_rate: float = 2.0, pulse_width: float = 20.0,
                 duration: float | Duration = 2000.0, input_noise: float = 0.0, tau_in: float = 100.0,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, input_noise=input_noise, tau_in=tau_in, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)) or not 1 <= n_bits <= MAX_CHANNELS:
            raise ValueError(f"n_bits must be an int in [1, {MAX_CHANNELS}], got {n_bits!r}")
        self.n_bits = int(n_bits)
        if isinstance(pulse_rate, bool) or not isinstance(pulse_rate, (int, float, np.integer, np.floating)) \
                or not 0.0 <= pulse_rate * self.dt / 1000.0 <= 1.0:
            raise ValueError(f"pulse_rate must be a number of Hz in [0, 1000/dt = {1000.0 / self.dt:g}], "
                             f"got {pulse_rate!r}")
        self.pulse_rate = float(pulse_rate)
        self.pulse_width = check_milliseconds(pulse_width, "pulse_width")
        #: Steps of a pulse, and the dead time after each onset.
        self.pulse_steps = max(1, round(self.pulse_width / self.dt))
        self.duration = self.declare_period("trial", duration, "duration")
        if self.pulse_width > self.duration.max:
            raise ValueError(f"pulse_width ({self.pulse_width:g} ms) must not exceed the longest trial "
                             f"({self.duration.max:g} ms, duration)")
        self.input_names = tuple(f"pulse_{i + 1}" for i in range(self.n_bits))
        # fill's int8 codes and pulses, and the onsets it draws (a fraction of the steps).
        self.fill_bytes_per_step = 4 * self.n_bits
        self.output_names = tuple(f"bit_{i + 1}" for i in range(self.n_bits))
        self.rule = TrackingRule(success_rmse=self.criterion.threshold)

    def sample_params(self, n, rng):
        return {}

    def sample_durations(self, params, rng):
        return {"trial": self.duration.sample(len(params["catch"]), rng)}

    def fill(self, tr: Trials) -> None:
        # Sparse pulse trains per (trial, channel), then dense arrays from ONE int8 running sum over
        # time of the changes of code = 4 * target + (pulse on): target = sign(code), pulse on =
        # code & 1, so inputs = target * pulse on and mask = |target| - pulse on.
        n, n_steps, n_bits = tr.n, tr.n_steps, self.n_bits
        w = self.pulse_steps
        onset, sign = self.pulse_trains(tr.rng, tr.lengths, n_steps)          # (K, B, n_bits)
        valid = onset < tr.lengths[:, None]                                   # a prefix of each train
        # Flat indices into (B, T, n_bits) of the onsets and of the pulse ends inside the array.
        flat = onset * np.int64(n_bits)
        flat += np.arange(n, dtype=np.int64)[:, None] * (n_steps * n_bits) + np.arange(n_bits)
        on = flat[valid]
        end = flat[valid & (onset < n_steps - w)] + w * n_bits
        change = sign * np.int8(4)                       # at an onset: 4 (new sign - previous sign) + 1
        change[1:] -= change[:-1].copy()
        change += 1

        code = np.zeros((n, n_steps, n_bits), dtype=np.int8)
        flat_code = code.reshape(-1)
        flat_code[on] = change[valid]
        flat_code[end] -= 1                              # ends are distinct; an end may meet the next onset
        np.cumsum(code, axis=1, dtype=np.int8, out=code)
        target = np.sign(code)                           # the sign of the last onset, 0 before the first
        np.copyto(tr.targets, target)
        np.bitwise_and(code, 1, out=code)                # the pulse is on
        signed = np.multiply(target, code, out=code)     # the pulse's sign while it is on
        np.copyto(tr.inputs, signed)
        np.abs(target, out=target)
        target -= np.abs(signed, out=signed)             # a sign to hold and no pulse on
        np.copyto(tr.mask, target)

        pulses = np.zeros((n, n_steps, n_bits), dtype=np.int8)
        pulses.reshape(-1)[on] = sign[valid]
        tr.params["n_pulses"] = np.bincount(on // (n_steps * n_bits), minlength=n)
        tr.extras["pulses"] = pulses

    def pulse_trains(self, rng: np.random.Generator, lengths: np.ndarray, n_steps: int,
                     block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(K, B, n_bits) onset steps of every channel's pulses (increasing along K; those at or
        after the trial's end are unused) and their signs (int8, +1 or -1).

        Onset 0 comes at step G and onset k + 1 at onset k + ``pulse_steps`` + G, each G an
        independent geometric draw with P(G >= g) = exp(-pulse_rate g dt / 1000): the steps in
        which a Poisson process of rate ``pulse_rate`` fires, the process sleeping for a pulse's
        width after each onset. Gaps are drawn ``block`` at a time per channel (default: enough
        to pass the end of the trial almost always) until every train has passed its trial's end.
        """
        n, w = len(lengths), self.pulse_steps
        hazard = self.pulse_rate * self.dt / 1000.0                                 # events per step
        if hazard == 0.0:
            return np.full((1, n, self.n_bits), n_steps, dtype=np.int32), np.ones((1, n, self.n_bits), np.int8)
        # Enough gaps to pass the end of the trial almost always (mean count + 5 sd, at most
        # ceil(T / w) + 1, which always does); if a row falls short, every row draws another block.
        mean_count = n_steps / (w + 1.0 / hazard)
        most = -(-n_steps // w) + 1
        k = min(most, int(mean_count + 5.0 * np.sqrt(mean_count)) + 2 if block is None else block)
        blocks, reached = [], np.full((1, n, self.n_bits), -w, dtype=np.int32)
        while True:
            gaps = rng.standard_exponential((k, n, self.n_bits))
            gaps *= 1.0 / hazard
            np.minimum(gaps, n_steps, out=gaps)                                     # no int overflow
            block = gaps.astype(np.int32)                                          # floor: geometric
            block += w
            block[0] += reached[0]
            np.cumsum(block, axis=0, out=block)                  # along K: vectorised over (B, n_bits)
            blocks.append(block)
            reached = block[-1:]
            if k == most or np.all(reached[0] >= lengths[:, None]):
                break
        onset = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
        sign = rng.integers(0, 2, size=onset.shape, dtype=bool).view(np.int8) * np.int8(2)
        sign -= 1
        return onset, sign
