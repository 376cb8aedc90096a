"""The n-bit flip-flop memory task of Sussillo & Barak (2013)."""

from __future__ import annotations

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.rules import TrackingRule
from neurotasks.task import Task, Trials, check_duration
from neurotasks.timing import Duration


class FlipFlop(Task):
    """Remember the sign of the last pulse on each of n input channels.

    ## Description
    The n-bit flip-flop of Sussillo & Barak (2013), the classic task for reverse-engineering
    a trained network through its fixed points (2^n stable memory states). Each input channel
    emits brief +1 or -1 pulses at random times; the output of the same index must hold the
    sign of the last pulse on its input, ignoring the pulses of the other channels.

    Pulses are drawn independently per channel: a candidate onset at each step with
    probability `pulse_rate * dt / 1000`, with a random sign; a candidate that follows another
    candidate of its channel by less than the pulse width is dropped, so the pulses of a
    channel never overlap (this is a vectorised thinning: it drops slightly more than a
    sequential rule would, so the realised rate is a little under `pulse_rate`).

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
    `dt` (10 ms), `n_bits` (3), `pulse_rate` (2 Hz per channel), `pulse_width` (20 ms),
    `duration` (2000 ms), `input_noise` (0), `tau_in` (100).
    Trial parameter: `n_pulses` (pulses in the trial, all channels). `extras["pulses"]`
    (B, T, n_bits) int8 holds each pulse's sign at its onset step.

    ## Reference
    Sussillo & Barak (2013) Neural Computation 25: 626, "Opening the black box: low-dimensional
    dynamics in high-dimensional recurrent neural networks" (1000 tanh units, tau 10 ms; far
    fewer units suffice).

    ## Version history
    v0: first version.
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
    suggested_network = {"n_units": 100, "tau": 20.0}

    def __init__(self, *, dt: float = 10.0, n_bits: int = 3, pulse_rate: float = 2.0, pulse_width: float = 20.0,
                 duration: float | Duration = 2000.0, input_noise: float = 0.0, tau_in: float = 100.0) -> None:
        super().__init__(dt=dt, input_noise=input_noise, tau_in=tau_in)
        if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)) or n_bits < 1:
            raise ValueError(f"n_bits must be an int >= 1, got {n_bits!r}")
        self.n_bits = int(n_bits)
        if isinstance(pulse_rate, bool) or not isinstance(pulse_rate, (int, float, np.integer, np.floating)) \
                or not 0.0 <= pulse_rate * self.dt / 1000.0 <= 1.0:
            raise ValueError(f"pulse_rate must be a number of Hz in [0, 1000/dt = {1000.0 / self.dt:g}], "
                             f"got {pulse_rate!r}")
        self.pulse_rate = float(pulse_rate)
        self.pulse_width = check_duration(pulse_width, "pulse_width").max
        self.pulse_steps = max(1, round(self.pulse_width / self.dt))
        self.duration = check_duration(duration, "duration")
        self.input_names = tuple(f"pulse_{i + 1}" for i in range(self.n_bits))
        self.output_names = tuple(f"bit_{i + 1}" for i in range(self.n_bits))
        self.rule = TrackingRule(success_rmse=self.criterion.threshold)

    def sample_params(self, n, rng):
        return {}

    def sample_durations(self, params, rng):
        return {"trial": self.duration.sample(len(params["catch"]), rng)}

    def fill(self, tr: Trials) -> None:
        n, n_steps, n_bits = shape = (tr.n, tr.n_steps, self.n_bits)
        w = self.pulse_steps
        step = np.repeat(np.arange(n_steps, dtype=np.int32), n_bits).reshape(n_steps, n_bits)   # (T, n)
        uniform = tr.rng.random(shape)
        candidate = uniform < self.pulse_rate * self.dt / 1000.0
        candidate.reshape(n, -1)[:] &= np.arange(n_steps * n_bits) < (tr.lengths * n_bits)[:, None]  # not on padding
        negative = tr.rng.random(out=uniform) < 0.5                                # the next draws, same buffer

        # Drop a candidate if another candidate of its channel started in the w - 1 steps before:
        # count[:, t] candidates before step t, compared with the count w - 1 steps earlier.
        count = _padded_cumsum(candidate)                                       # (B, T + 1, n)
        lag = min(w - 1, n_steps)
        onset = np.empty(shape, dtype=bool)
        np.equal(count[:, :lag], 0, out=onset[:, :lag])
        np.equal(count[:, lag:-1], count[:, :n_steps - lag], out=onset[:, lag:])
        onset &= candidate
        pulses = onset.view(np.int8) - ((onset & negative).view(np.int8) << 1)  # +1 / -1 at onsets

        # The last onset so far and its sign in one running maximum of 4 t + 2 + sign at onsets
        # (0 elsewhere): code >> 2 is the onset step and code & 3 is 3 (+1), 1 (-1) or 0 (none yet).
        code = np.multiply(onset.view(np.int8), 4 * step + 2)
        code += pulses
        np.maximum.accumulate(code, axis=1, out=code)
        flipping = step - (code >> 2) < w                                       # within w steps of the onset
        code &= 3
        sign = code - ((code & 1) << 1)                                         # 3 -> +1, 1 -> -1, 0 -> 0
        # Targets: the sign of the last onset (0 before the first); inputs: that sign for the w
        # steps of its pulse; mask: 1 once the first pulse is over.
        tr.targets[:] = sign
        tr.inputs[:] = sign * flipping
        tr.mask[:] = (code > 0) & ~flipping
        tr.params["n_pulses"] = onset.sum(axis=(1, 2))
        tr.extras["pulses"] = pulses


def _padded_cumsum(x: np.ndarray) -> np.ndarray:
    """Cumulative count over time with a leading 0: out[:, t] = sum of x[:, :t] (int32)."""
    out = np.empty((x.shape[0], x.shape[1] + 1, *x.shape[2:]), dtype=np.int32)
    out[:, 0] = 0
    np.cumsum(x, axis=1, dtype=np.int32, out=out[:, 1:])
    return out
