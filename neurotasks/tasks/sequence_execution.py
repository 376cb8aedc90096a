"""Eye-movement sequence execution (Averbeck & Lee 2007) as trained in Song, Yang & Wang (2016), Fig. 8."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Values
from neurotasks.rules import TrackingRule
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task
from neurotasks.timing import Duration

#: Every sequence by id: the dots visited, starting at the centre (dot 4).
SEQUENCES: dict[int, tuple[int, int, int, int]] = {
    1: (4, 5, 1, 0),
    2: (4, 3, 1, 2),
    3: (4, 3, 7, 8),
    4: (4, 5, 7, 6),
    5: (4, 5, 1, 2),
    6: (4, 3, 1, 0),
    7: (4, 3, 7, 6),
    8: (4, 5, 7, 8),
}

#: The two targets offered from each dot a movement can start at.
#:
#:     0 1 2
#:     3 4 5
#:     6 7 8
OPTIONS: dict[int, tuple[int, int]] = {1: (0, 2), 3: (1, 7), 4: (3, 5), 5: (1, 7), 7: (6, 8)}

#: The gaze periods, in trial order, and the index of the dot fixated in each (0 = start dot).
GAZE_PERIODS = ("fixation", "m1", "m2", "m3")


def dot_position(k: np.ndarray | int) -> np.ndarray:
    """Screen coordinates (..., 2) of dots numbered 0-8 row by row from the top left, 0.5 apart."""
    k = np.asarray(k)
    return np.stack([-0.5 + 0.5 * (k % 3), 0.5 - 0.5 * (k // 3)], axis=-1).astype(np.float32)


def _dots_on_table() -> np.ndarray:
    """(9, 4, 9) bool, indexed [sequence id, gaze period, dot]: the dots shown.

    Fixation shows the start dot; movement i shows the current dot and its two options.
    Row 0 is unused so sequence ids index the table directly.
    """
    table = np.zeros((9, len(GAZE_PERIODS), 9), dtype=bool)
    for seq_id, dots in SEQUENCES.items():
        table[seq_id, 0, dots[0]] = True
        for move in range(3):
            table[seq_id, move + 1, [dots[move], *OPTIONS[dots[move]]]] = True
    return table


DOTS_ON = _dots_on_table()
#: (9, 4) dot fixated at the end of each gaze period, by sequence id (row 0 unused).
GAZE_DOT = np.array([(0, 0, 0, 0), *SEQUENCES.values()], dtype=np.int64)
#: (8,) the sequence ids, in the order of the ``seq_*`` inputs.
SEQUENCE_IDS = np.array(list(SEQUENCES), dtype=np.int64)


class SequenceExecution(Task):
    """Execute one of eight memorised sequences of three eye movements on a 3x3 grid of dots.

    ## Description
    The sequence-execution part of Averbeck & Lee (2007) as trained in Song, Yang & Wang
    (2016), Fig. 8. Nine dots form a 3x3 grid, numbered 0-8 row by row from the top left;
    dot k sits at x = -0.5 + 0.5 (k mod 3), y = 0.5 - 0.5 (k div 3). After 1 s of fixation on
    the centre (dot 4) the agent makes three saccades, each to one of two offered targets,
    following the sequence named by a separate sequence input, and holds each new dot for
    500 ms. The eight sequences (ids 1-8) are 4-5-1-0, 4-3-1-2, 4-3-7-8, 4-5-7-6, 4-5-1-2,
    4-3-1-0, 4-3-7-6 and 4-5-7-8. Allowed moves: 1 to 0/2, 3 to 1/7, 4 to 3/5, 5 to 1/7, 7 to
    6/8. The outputs are the eye position (x, y) on the screen.

    In the paper the network runs continuously, without resetting between trials: use
    `TaskEnv(..., trials_per_episode=None)` for a stream, or `neurotasks.chain.chain_trials`
    to lay whole trials end to end for supervised training.

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `dot_0` ... `dot_8` | fixation | 1 on `dot_4` (the start dot) |
    |  | m1, m2, m3 | 1 on the current dot and its two allowed targets |
    | `seq_1` ... `seq_8` | the whole trial (iti included) | 1 on the trial's sequence |

    As in pycog, every input carries a 0.2 baseline and white noise (sigma 0.01 at tau_in 100 ms,
    per-step sd sqrt(2 tau_in/dt) sigma) and is rectified.

    ## Outputs and actions
    Outputs `eye_x`, `eye_y`: the centre during fixation, then the next dot of the sequence
    during each movement period; unconstrained during the iti (mask 0).
    Actions: `Box(-1, 1, (2,))`, the eye position.

    ## Periods
    iti 1000 ms, fixation 1000 ms, m1 500 ms, m2 500 ms, m3 500 ms (3.5 s in all).

    ## Rewards
    Each step earns minus the mean squared error of the eye position (constrained steps only).
    During fixation, an eye more than `fixation_tolerance` (0.2, less than half the 0.5 dot
    spacing) from the centre in x or y breaks fixation and aborts the trial (-1).

    ## Criterion
    Validation RMSE of the eye position (constrained steps) <= 0.05 (pycog's `min_error`).
    A trial counts as correct when its own RMSE is <= 0.05.

    ## Arguments
    `dt` (10 ms), `sequences` (ids to draw from, default all 8: drawn in blocks, each
    sequence once per block of `len(sequences)` randomly permuted trials, as in the paper),
    `iti` (1000), `fixation` (1000), `movement` (500, each of m1-m3), `fixation_tolerance`
    (0.2), `input_noise` (0.01), `tau_in` (100), `input_baseline` (0.2).
    Trial parameter: `sequence` (id 1-8). Validation grid: every sequence of `sequences`.

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Song, Yang & Wang (2016) PLoS Comput Biol 12(2): e1004792, Fig. 8 (200 units, 160 E / 40 I,
    tau 50 ms, sigma_rec 0.01, readout from all units so coordinates can be negative);
    Averbeck & Lee (2007) J Neurosci 27: 2204.

    ## Version history
    v0: first version.
    """

    id = "SequenceExecution-v0"
    summary = "Memorised sequences of three saccades on a 3x3 grid, eye position output (Song et al. 2016, Fig. 8)"
    tags = ("motor", "sequence", "continuous output", "paper")
    reference = "Song, Yang & Wang 2016 (Fig. 8); Averbeck & Lee 2007"
    period_names = ("iti", "fixation", "m1", "m2", "m3")
    input_names = (*(f"dot_{k}" for k in range(9)), *(f"seq_{s}" for s in SEQUENCES))
    output_names = ("eye_x", "eye_y")
    action_names = None
    criterion = Criterion("rmse", "<=", 0.05)
    signal_range = (0.0, 1.0)
    output_range = (-1.0, 1.0)
    suggested_network = {"n_units": 200, "excitatory_fraction": 0.8, "tau": 50.0, "sigma_rec": 0.01,
                         "readout": "all"}

    def __init__(self, *, dt: float = 10.0, sequences: Sequence[int] = tuple(SEQUENCES),
                 iti: float | Duration = 1000.0, fixation: float | Duration = 1000.0,
                 movement: float | Duration = 500.0, fixation_tolerance: float = 0.2,
                 input_noise: float = 0.01, tau_in: float = 100.0, input_baseline: float = 0.2,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, input_baseline=input_baseline, input_noise=input_noise, tau_in=tau_in,
                         rectify_inputs=True, max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        self.sequences = _check_sequences(sequences)
        self.durations = {
            "iti": self.declare_period("iti", iti, "iti", can_be_zero=True),
            "fixation": self.declare_period("fixation", fixation, "fixation"),
            "m1": self.declare_period("m1", movement, "movement"),
            "m2": self.declare_period("m2", movement, "movement"),
            "m3": self.declare_period("m3", movement, "movement"),
        }
        tolerance = float(fixation_tolerance) if isinstance(fixation_tolerance, (int, float)) else np.nan
        if isinstance(fixation_tolerance, bool) or not tolerance > 0:
            raise ValueError(f"fixation_tolerance must be a number > 0, got {fixation_tolerance!r}")
        self.fixation_tolerance = tolerance
        self.rule = TrackingRule(success_rmse=self.criterion.threshold, hold_periods=("fixation",),
                                 tolerance=tolerance)

    def sample_params(self, n, rng):
        # Blocks of len(sequences) trials, each a random permutation of the sequences (the paper's
        # schedule), so every sequence is equally frequent in any batch of whole blocks.
        blocks = -(-n // len(self.sequences))
        order = rng.permuted(np.tile(self.sequences, (blocks, 1)), axis=1)
        return {"sequence": order.ravel()[:n]}

    def param_domains(self):
        return {**super().param_domains(), "sequence": Values(SEQUENCES, what="a sequence id")}

    def conditions(self):
        return {"sequence": self.sequences.copy()}

    def fill(self, tr):
        # One (B, periods + padding, channels) table per array, laid out over time by one gather each.
        seq = tr.params["sequence"].astype(np.int64)
        gaze = [self.period_names.index(name) for name in GAZE_PERIODS]
        inputs = tr.period_table(len(self.input_names))
        inputs[:, :-1, 9:] = (seq[:, None] == SEQUENCE_IDS)[:, None, :]        # the sequence cue, whole trial
        inputs[:, gaze, :9] = DOTS_ON[seq]
        targets = tr.period_table(len(self.output_names))
        targets[:, gaze] = dot_position(GAZE_DOT[seq])                         # (B, 4, 2)
        mask = tr.period_table(len(self.output_names))
        mask[:, gaze] = 1.0
        rows = tr.table_rows
        tr.lay_out(inputs, rows, tr.inputs)
        tr.lay_out(targets, rows, tr.targets)
        tr.lay_out(mask, rows, tr.mask)


def _check_sequences(sequences: Any) -> np.ndarray:
    try:
        ids = np.asarray(sequences).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"sequences must be a list of sequence ids in 1-8, got {sequences!r}") from None
    if ids.size == 0:
        raise ValueError("sequences must not be empty")
    if ids.dtype.kind not in "iuf" or not np.all(np.isin(ids, list(SEQUENCES))):
        raise ValueError(f"sequences must be ids among {list(SEQUENCES)}, got {sequences!r}")
    if len(np.unique(ids)) != ids.size:
        raise ValueError(f"sequences must not repeat an id, got {sequences!r}")
    return ids.astype(np.int64)
