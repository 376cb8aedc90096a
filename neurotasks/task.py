"""Task: one vectorised definition of a cognitive task.

A task subclass declares its channels and periods and writes three small hooks, each working
on whole arrays of trials at once:

* ``sample_params(n, rng)`` draws each trial's condition (``ground_truth``, ``coherence``...),
* ``sample_durations(params, rng)`` draws each period's duration in ms,
* ``fill(trials)`` writes the noiseless inputs, the targets, the error mask and ``gt`` by
  broadcasting over (trial, time) with the period masks it is given.

The base class does the rest, identically for every task: catch trials, forced parameters,
rounding durations to ``dt``, padding, input baseline and white noise, rectification,
validation, and scoring through the task's response rule. ``trials(n)`` therefore runs a
fixed number of array operations whatever ``n`` is: no Python loop over trials or time steps.

Validation is declared as data and checked in one place. A subclass declares what each period
can last (``declare_period``, or entries of ``period_timing``), the domain of each parameter it
draws (``param_domains``) and the parameters it derives (``derived_params``). Once the outermost
``__init__`` has returned, ``check_construction`` makes sure that every period lasts at least
one step at ``dt`` and that no trial can outgrow ``max_trial_steps``; ``trials(n, **forced)``
checks the forced values against their domains before drawing anything, and the size of the
batch against ``max_batch_bytes`` before allocating it; ``evaluate`` refuses non-finite outputs
and actions outside the action space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from neurotasks.batch import TrialBatch, concatenate
from neurotasks.criterion import Criterion
from neurotasks.domains import Domain, Flag
from neurotasks.noise import add_normals
from neurotasks.rules import ResponseRule
from neurotasks.stacked_draws import GeneratorStack, StackError
from neurotasks.timing import Duration, PeriodTiming, as_duration
from neurotasks.work_arrays import WorkArrays

#: Every registered task class by id, filled in as task modules are imported.
TASK_CLASSES: dict[str, type[Task]] = {}

#: Default ceiling on the steps of one trial (``max_trial_steps``). The longest default trial is
#: 350 steps (SequenceExecution-v0); the longest in time, ParametricWorkingMemory-v0's 4.9 s, is
#: 4,900 steps at dt = 1 ms. 10,000 leaves room for every default and paper configuration down to
#: dt = 0.5 ms, and stops a mistyped duration (1e9 ms) or dt (1e-9 ms) before it hangs.
MAX_TRIAL_STEPS = 10_000
#: The smallest ``dt`` (ms): any duration divided by it stays a finite number of steps (and far
#: above ``max_trial_steps``, which then refuses it by name).
MIN_DT = 1e-12
#: Default ceiling on the memory of one batch (``max_batch_bytes``): 4 GiB.
MAX_BATCH_BYTES = 4 * 2**30
#: The most input or output channels an argument can ask for (FlipFlop's ``n_bits``,
#: PathIntegration's ``n_place_cells``): each is a named channel, made when the task is.
MAX_CHANNELS = 10_000


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """An int seed, a Generator (used as is) or None (fresh entropy) -> Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None, got {type(rng).__name__}")


class FillDrawsError(RuntimeError):
    """Raised when a task's ``fill`` draws from ``tr.rng`` inside ``trials_from``."""


class _NoGenerator:
    """Stands in for ``tr.rng`` where ``fill`` must not draw (``trials_from``)."""

    def __getattr__(self, name: str) -> Any:
        raise FillDrawsError(f"fill() used tr.rng.{name}")


_NO_RNG: Any = _NoGenerator()


class TaskMeta(type):
    """Runs ``Task.check_construction`` once a task is made, after the outermost ``__init__``
    (a subclass's ``__init__`` sets its periods after calling the base class's)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        task = super().__call__(*args, **kwargs)
        task.check_construction()
        return task


class Trials:
    """The arrays a task's ``fill`` writes, with the period masks to write them with.

    ``inputs`` holds the noiseless signal (the base class adds baseline and noise afterwards).
    ``targets``, ``mask`` and ``gt`` start at 0; the base class clears the padding afterwards
    (``gt`` -1 there).
    """

    def __init__(self, task: Task, params: dict[str, np.ndarray], periods: dict[str, np.ndarray],
                 lengths: np.ndarray, rng: np.random.Generator, work: WorkArrays | None = None):
        self.task = task
        self.params = params
        self.periods = periods
        self.lengths = lengths
        self.rng = rng
        self.n = int(lengths.shape[0])
        self.n_steps = int(lengths.max()) if self.n else 0
        self.dt = task.dt
        self.t = np.arange(self.n_steps)
        self.inputs = _zeros(work, "inputs", (self.n, self.n_steps, len(task.input_names)), np.float32)
        self.targets = _zeros(work, "targets", (self.n, self.n_steps, len(task.output_names)), np.float32)
        self.mask = _zeros(work, "mask", (self.n, self.n_steps, len(task.output_names)), np.float32)
        self.gt = _zeros(work, "gt", (self.n, self.n_steps), np.int64)
        self.extras: dict[str, np.ndarray] = {}
        self._table_rows: np.ndarray | None = None

    # Piecewise-constant signals are written from small per-trial tables: a (B, K[, C]) table
    # of values is laid out over time by ONE gather with a (B, T) index of table rows, and that
    # index comes from np.repeat of each run's row by its length (one pass over (B, T)).
    @staticmethod
    def runs(counts: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
        """(B, T) index into a (B, n_rows, ...) table flattened over its first two axes.

        Trial b is a run of ``counts[b, 0]`` steps on row ``rows[..., 0]``, then ``counts[b, 1]``
        steps on row ``rows[..., 1]``, ...; ``rows`` is (S,) or (B, S), ``counts`` (B, S), and
        every trial's counts add up to the same T.
        """
        n = counts.shape[0]
        flat = (np.asarray(rows, dtype=np.intp) + n_rows * np.arange(n, dtype=np.intp)[:, None]).ravel()
        return np.repeat(flat, counts.ravel()).reshape(n, -1)

    @staticmethod
    def lay_out(table: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write ``table`` (B, K[, C]) over time into ``out`` (B, T[, C]): out[b, t] = table[rows[b, t]]
        (``rows`` indexes the table flattened over (B, K); ``out`` C-contiguous, same dtype)."""
        flat = table.reshape(-1, *table.shape[2:])
        return np.take(flat, rows, axis=0, out=out, mode="clip")   # "clip": rows are in range; no buffering

    @property
    def period_steps(self) -> np.ndarray:
        """(B, P + 1) steps of each period in ``period_names`` order, then of the padding."""
        counts = np.empty((self.n, len(self.task.period_names) + 1), dtype=np.intp)
        for j, name in enumerate(self.task.period_names):
            span = self.periods[name]
            np.subtract(span[:, 1], span[:, 0], out=counts[:, j])
        np.subtract(self.n_steps, self.lengths, out=counts[:, -1])
        return counts

    @property
    def table_rows(self) -> np.ndarray:
        """(B, T) index of each step's row in a ``period_table`` flattened over (B, P + 1). Cached."""
        if self._table_rows is None:
            n_rows = len(self.task.period_names) + 1
            self._table_rows = self.runs(self.period_steps, np.arange(n_rows), n_rows)
        return self._table_rows

    @property
    def period_index(self) -> np.ndarray:
        """(B, T) int: the index in ``period_names`` of each step's period; ``len(period_names)``
        on padding."""
        n_rows = len(self.task.period_names) + 1
        return self.table_rows - n_rows * np.arange(self.n, dtype=np.intp)[:, None]

    def period_table(self, n_channels: int | None = None, dtype: Any = np.float32) -> np.ndarray:
        """Zeros of shape (B, P + 1[, n_channels]): a row per trial, an entry per period, the last
        for the padding; fill it and ``lay_out`` it with ``table_rows``."""
        shape = (self.n, len(self.task.period_names) + 1)
        return np.zeros(shape if n_channels is None else (*shape, n_channels), dtype=dtype)

    def during(self, *names: str) -> np.ndarray:
        """(B, T) bool: True on the steps of any of the named periods."""
        index = self.period_index
        out = index == self.task.period_names.index(names[0])
        for name in names[1:]:
            out |= index == self.task.period_names.index(name)
        return out

    def per_period(self, values: dict[str, Any], out: np.ndarray) -> np.ndarray:
        """Write into ``out`` (B, T[, C]), on each step, the value given for its period.

        ``values`` maps period names to a scalar, a (C,) vector or a (B, C) array (a (B,) array
        when ``out`` is (B, T)); periods not named, and padding, get 0. One gather however many
        periods: the fast way to write piecewise-constant inputs, targets, masks and ``gt``.
        """
        table = self.period_table(None, out.dtype) if out.ndim == 2 else self.period_table(out.shape[2], out.dtype)
        for name, value in values.items():
            table[:, self.task.period_names.index(name)] = value
        return self.lay_out(table, self.table_rows, out)

    def onset(self, name: str) -> np.ndarray:
        """(B,) first step of a period."""
        return self.periods[name][:, 0]

    def steps(self, ms: float | np.ndarray) -> np.ndarray:
        """Milliseconds -> whole steps (rounded)."""
        return np.rint(np.asarray(ms) / self.dt).astype(np.int64)

    def channel(self, name: str) -> int:
        return self.task.input_names.index(name)

class Task(metaclass=TaskMeta):
    """Base class of every task. See the module docstring for what a subclass writes.

    Class attributes a subclass sets:
        id: the Gymnasium id, e.g. ``"PerceptualDecision-v0"``.
        summary: one line for ``neurotasks list`` and the README table.
        tags: keywords (``"decision"``, ``"working memory"``, ``"paper"``...).
        reference: the experiment and the modelling paper the defaults come from.
        period_names: the periods in trial order (they tile the trial).
        derived_params: parameters the task computes rather than draws, each with what to
            force instead (forcing them is refused with that advice).

    Arguments every task accepts:
        dt, catch_prob, catch_duration, input_baseline, input_noise, tau_in, rectify_inputs:
            see each task.
        max_trial_steps: the most steps one trial may have (default ``MAX_TRIAL_STEPS``,
            10,000). The longest trial the arguments allow is checked against it when the task
            is made, and trials made with forced parameters when they are drawn.
        max_batch_bytes: the most memory one batch may take (default ``MAX_BATCH_BYTES``, 4 GiB),
            estimated and checked before ``trials(n)`` allocates it.
    """

    id: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    reference: ClassVar[str] = ""
    period_names: ClassVar[tuple[str, ...]] = ()

    # Set by subclasses in __init__ (or as class attributes).
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    action_names: tuple[str, ...] | None = None
    rule: ResponseRule
    criterion: Criterion = Criterion()
    #: Range of the noiseless signal ``fill`` writes (before baseline and noise).
    signal_range: tuple[float, float] = (0.0, 1.0)
    #: Range of valid outputs / continuous actions.
    output_range: tuple[float, float] = (0.0, 1.5)
    #: Whether ``fill`` draws from ``tr.rng`` (then ``trials_from`` cannot share one build
    #: between generators); None: not known yet, found out on the first ``trials_from``.
    fill_draws: bool | None = None
    #: Whether ``sample_params`` and ``sample_durations`` can draw through a GeneratorStack
    #: (``trials_from`` then runs them once for all generators); None: not tried yet.
    stackable_draws: bool | None = None
    #: The network the paper trained on this task (read by the agents package).
    suggested_network: ClassVar[dict[str, Any]] = {"n_units": 100}
    #: Parameters the task computes (in ``derive_params`` or ``fill``) rather than draws, each
    #: with what to force instead; forcing one is refused with that advice.
    derived_params: ClassVar[dict[str, str]] = {}
    #: Bytes per step of a batch that ``fill`` allocates besides the batch's own arrays
    #: (used by the memory estimate checked against ``max_batch_bytes``).
    fill_bytes_per_step: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("id"):
            TASK_CLASSES[cls.id] = cls

    def __init__(
        self,
        *,
        dt: float = 20.0,
        catch_prob: float = 0.0,
        catch_duration: float = 2000.0,
        input_baseline: float = 0.0,
        input_noise: float = 0.0,
        tau_in: float = 100.0,
        rectify_inputs: bool = False,
        max_trial_steps: int = MAX_TRIAL_STEPS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.dt = _positive(dt, "dt")
        if self.dt < MIN_DT:
            raise ValueError(f"dt must be at least {MIN_DT:g} ms (durations in steps must stay finite), got {dt!r}")
        self.catch_prob = _probability(catch_prob, "catch_prob")
        self.catch_duration = _positive(catch_duration, "catch_duration")
        self.input_baseline = check_number(input_baseline, "input_baseline")
        self.input_noise = _nonnegative(input_noise, "input_noise")
        self.tau_in = _positive(tau_in, "tau_in")
        self.rectify_inputs = bool(rectify_inputs)
        self.max_trial_steps = _positive_int(max_trial_steps, "max_trial_steps")
        self.max_batch_bytes = _positive_int(max_batch_bytes, "max_batch_bytes")
        #: What each period can last (period name -> PeriodTiming), declared by the subclass.
        self.period_timing: dict[str, PeriodTiming] = {}
        self.kwargs: dict[str, Any] = {}  # the arguments this task was made with (set by make_task)

    # ------------------------------------------------------------------ hooks for subclasses
    def sample_params(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw each trial's condition: a dict of (n,) arrays, at least ``ground_truth``."""
        raise NotImplementedError

    def derive_params(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Parameters computed from others (re-run after forcing; list them in ``derived_params``).
        Default: none."""
        return params

    def param_domains(self) -> dict[str, Domain]:
        """The domain of every parameter the task draws (what ``trials(**forced)`` accepts):
        name -> ``neurotasks.domains`` Domain. Subclasses add theirs to the base's ``catch``."""
        return {"catch": Flag()}

    def impose(self, params: dict[str, np.ndarray], forced: dict[str, np.ndarray]) -> None:
        """Write the forced values (checked against their domains) into the drawn ``params``, in
        place, and make the drawn parameters that depend on them agree; a ValueError naming the
        parameters when forced values contradict each other. Default: write them."""
        params.update(forced)

    def sample_durations(self, params: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Each period's duration in ms, (n,) arrays, by period name.

        Default: one draw per period from ``self.durations`` (period name -> Duration), in that
        dict's order; tasks whose durations depend on the trial's parameters override this.
        """
        durations = getattr(self, "durations", None)
        if durations is None:
            raise NotImplementedError(f"{type(self).__name__} must set self.durations or override sample_durations")
        n = len(params["catch"])
        return {name: duration.sample(n, rng) for name, duration in durations.items()}

    def fill(self, trials: Trials) -> None:
        """Write the noiseless inputs, targets, mask and gt of ``trials``."""
        raise NotImplementedError

    def declare_period(self, period: str, value: Any, argument: str, *, can_be_zero: bool = False) -> Duration:
        """The Duration of a user's ``argument=value`` (checked under that name), recorded as what
        ``period`` lasts for the checks of ``check_construction``."""
        duration = check_duration(value, argument, allow_zero=can_be_zero)
        self.period_timing[period] = PeriodTiming(argument, duration, can_be_zero)
        return duration

    # ------------------------------------------------------------------ validation at construction
    def check_construction(self) -> None:
        """Refuse, naming the argument, a task whose trials could not be made as asked: a period
        whose duration can round to 0 steps at ``dt`` (unless the task allows it to be 0, and then
        only exactly 0), a catch trial of 0 steps, or a trial longer than ``max_trial_steps``.
        Run once the outermost ``__init__`` has returned."""
        missing = [name for name in self.period_names if name not in self.period_timing]
        if missing:
            raise TypeError(f"{type(self).__name__} must declare the timing of period(s) {missing} "
                            "(declare_period or period_timing)")
        dt = self.dt
        problems = []
        for period in self.period_names:
            timing = self.period_timing[period]
            duration, argument = timing.duration, timing.argument
            shortest = duration.lowest_positive
            if duration.min <= 0 and not timing.can_be_zero:
                problems.append(f"{argument} must be > 0 ms on every trial (the {period} period cannot be empty), "
                                f"but it can be {duration.min:g} ms")
            elif shortest is not None and _steps(shortest, dt) < 1:
                problems.append(f"{argument} can be {shortest:g} ms, which is 0 steps at dt={dt:g} ms ({shortest:g} / "
                                f"{dt:g} = {shortest / dt:.3g} rounds to 0): the {period} period would vanish")
        if problems:
            raise ValueError("; ".join(problems) + f". Make every period at least one step ({dt:g} ms) long, "
                             "or use a smaller dt")
        catch_steps = _steps(self.catch_duration, dt)
        if catch_steps < 1:
            raise ValueError(f"catch_duration ({self.catch_duration:g} ms) is 0 steps at dt={dt:g} ms "
                             f"({self.catch_duration / dt:.3g} rounds to 0); make it at least one step ({dt:g} ms)")
        longest = {p: _steps(self.period_timing[p].duration.max, dt) for p in self.period_names}
        total = sum(longest.values())
        if total > self.max_trial_steps or catch_steps > self.max_trial_steps:
            if catch_steps > total:
                culprit = f"catch_duration ({self.catch_duration:g} ms: {catch_steps:.4g} steps)"
            else:
                ranked = sorted(self.period_names, key=lambda p: -longest[p])[:3]
                culprit = ", ".join(f"{self.period_timing[p].argument} (the {p} period: up to "
                                    f"{self.period_timing[p].duration.max:g} ms)" for p in ranked)
            longest_steps = max(total, catch_steps)
            shown = f"{longest_steps:.4g}" if math.isfinite(longest_steps) else "unboundedly many"
            raise ValueError(f"{self.id or type(self).__name__}: a trial can last {shown} steps at dt={dt:g} ms, "
                             f"above max_trial_steps={self.max_trial_steps}; the longest: {culprit}. Shorten it, "
                             "bound it, use a larger dt or raise max_trial_steps")
        self._required_periods = np.array([not self.period_timing[p].can_be_zero for p in self.period_names])
        self._all_required = bool(self._required_periods.all())
        self._check_ranges()

    def _check_ranges(self) -> None:
        """The observation and output bounds must be finite float32 numbers (the spaces' dtype)."""
        for what, (low, high) in (("observation", self.observation_range), ("output", self.output_range)):
            if not (abs(low) <= _FLOAT32_MAX and abs(high) <= _FLOAT32_MAX and low <= high):
                raise ValueError(f"{type(self).__name__}: the {what} range [{low:g}, {high:g}] is not finite in "
                                 "float32; check input_baseline, input_noise and the task's signal arguments")

    def conditions(self) -> dict[str, np.ndarray]:
        """The condition grid used for validation: param name -> (K,) values, one per condition."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the generator
    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the per-trial parameters drawn and derived before ``fill`` (those
        ``trials(..., **forced)`` accepts are the keys of ``param_domains()``)."""
        probe = self.derive_params(self.sample_params(1, np.random.default_rng(0)))
        return ("catch", *probe)

    @property
    def input_noise_sd(self) -> float:
        """Per-step sd of the input noise: ``sqrt(2 tau_in / dt) * sigma``.

        Scaling with ``1/sqrt(dt)`` makes the time-integral of the noise over a period
        independent of ``dt``.
        """
        return math.sqrt(2.0 * self.tau_in / self.dt) * self.input_noise

    @property
    def observation_range(self) -> tuple[float, float]:
        """Finite bounds of every input channel; observations are clipped to them (10 noise sd)."""
        margin = 10.0 * self.input_noise_sd
        low = self.signal_range[0] + self.input_baseline - margin
        if self.rectify_inputs:
            low = max(low, 0.0)
        return float(low), float(self.signal_range[1] + self.input_baseline + margin)

    def trials(self, n: int, rng: np.random.Generator | int | None = None, *, work: WorkArrays | None = None,
               **forced: Any) -> TrialBatch:
        """``n`` fresh trials as a TrialBatch.

        Args:
            n: number of trials.
            rng: an int seed, a ``numpy.random.Generator`` (advanced in place), or None.
            **forced: per-trial parameters to impose, a scalar or an (n,) array each,
                e.g. ``coherence=51.2, ground_truth=1`` or ``catch=False``. Each is converted to
                the parameter's dtype and checked against its domain (``param_domains()``), and
                the batch holds exactly the forced values. Unknown names, derived parameters
                (``derived_params``) and values outside the domain are refused with a ValueError
                naming the parameter, before anything is drawn.

            work: a ``WorkArrays`` whose kept memory holds the batch's arrays (and the noise's
                scratch), for a caller that builds batch after batch and knows the previous
                one is no longer read (``TrialSampler``); the same numbers as without it.

        Raises ValueError, naming the limit, if the batch would exceed ``max_batch_bytes`` or a
        forced parameter makes a trial longer than ``max_trial_steps`` or empties a period.
        """
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        n = int(n)
        self._check_batch_bytes(n, 1)               # at least a step a trial: before drawing anything
        values = self._forced_values(forced, n) if forced else {}
        rng = as_generator(rng)
        params, steps = self._draw(n, rng, values)
        return self._finish(self._assemble(params, steps, rng, work), [rng], work=work)

    def trials_from(self, rngs: Sequence[np.random.Generator], n: int, *,
                    clear_padding: bool = True) -> TrialBatch:
        """``n`` trials from each generator, as one batch: rows ``[i n, (i + 1) n)`` are the
        trials ``trials(n, rngs[i])`` would make (padded to the longest trial of all).

        For callers that keep one generator per stream of trials (the vector environment):
        each generator draws its own conditions, durations and noise, and the arrays are built
        once for all of them. ``clear_padding=False`` leaves junk on the padding, for callers
        that never read it.
        """
        return self._finish(self.drafts_from(rngs, n), rngs, clear_padding=clear_padding)

    def drafts_from(self, rngs: Sequence[np.random.Generator], n: int) -> TrialBatch:
        """``trials_from`` before the input noise: the noiseless inputs plus baseline, not yet
        clipped, and junk on the padding. Each generator has made every draw but its noise,
        which ``add_input_noise`` then adds (for the vector environment, which lays the trials'
        steps end to end first)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if not rngs:
            raise ValueError("rngs must hold at least one numpy.random.Generator")
        n = int(n)
        self._check_batch_bytes(n * len(rngs), 1)
        if self._fill_draws():
            return concatenate([self._assemble(*self._draw(n, rng, {}), rng) for rng in rngs])
        params, steps = self._draws_from(rngs, n)
        return self._assemble(params, steps, _NO_RNG)

    def _draws_from(self, rngs: Sequence[np.random.Generator], n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """``_draw`` of ``n`` trials from each generator, concatenated: through a GeneratorStack
        (one pass of the task's hooks for all of them) where the hooks allow it, else one by one."""
        if len(rngs) > 1 and self._stackable_draws():
            return self._draw(n * len(rngs), GeneratorStack(rngs, n), {})
        draws = [self._draw(n, rng, {}) for rng in rngs]
        params = {key: np.concatenate([p[key] for p, _ in draws]) for key in draws[0][0]}
        return params, np.concatenate([s for _, s in draws])

    def _stackable_draws(self) -> bool:
        """Whether the hooks draw through a GeneratorStack exactly as generator by generator:
        ``stackable_draws``, or found out once on three fresh generators."""
        if self.stackable_draws is None:
            seeds, n = range(3), 4
            try:
                stacked = self._draw(n * len(seeds), GeneratorStack([np.random.default_rng(s) for s in seeds], n), {})
            except StackError:
                self.stackable_draws = False
            else:
                alone = [self._draw(n, np.random.default_rng(s), {}) for s in seeds]
                self.stackable_draws = np.array_equal(stacked[1], np.concatenate([d[1] for d in alone])) and all(
                    np.array_equal(value, np.concatenate([d[0][key] for d in alone]))
                    for key, value in stacked[0].items())
        return bool(self.stackable_draws)

    def _fill_draws(self) -> bool:
        """Whether ``fill`` draws from ``tr.rng``: ``fill_draws``, or found out once by building
        two trials with a stand-in generator that raises when used."""
        if self.fill_draws is None:
            params, steps = self._draw(2, np.random.default_rng(0), {})
            try:
                self._assemble(params, steps, _NO_RNG)
                self.fill_draws = False
            except FillDrawsError:
                self.fill_draws = True
        return bool(self.fill_draws)

    def _forced_values(self, forced: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
        """The forced parameters as (n,) arrays of their dtypes, each checked against its domain;
        unknown and derived names refused by name. Nothing is drawn before this has passed."""
        domains = self.param_domains()
        derived = sorted(set(forced) & set(self.derived_params))
        if derived:
            raise ValueError("; ".join(f"{name} is derived by {self.id or type(self).__name__}, not drawn, "
                                       f"so it cannot be forced: {self.derived_params[name]}" for name in derived))
        unknown = sorted(set(forced) - set(domains))
        if unknown:
            raise ValueError(f"{type(self).__name__}.trials got unknown parameter(s) {unknown}; "
                             f"known: {list(domains)}")
        return {name: domains[name].convert(value, name, n) for name, value in forced.items()}

    def _draw(self, n: int, rng: np.random.Generator, forced: Mapping[str, np.ndarray]) -> tuple[
            dict[str, np.ndarray], np.ndarray]:
        """Every random draw of a batch but the noise (and what ``fill`` draws): the trials'
        parameters and the steps of each period, (n, P) int64. ``forced``: from ``_forced_values``."""
        catch = rng.random(n) < self.catch_prob
        params = {"catch": catch, **self.sample_params(n, rng)}
        if forced:
            self.impose(params, dict(forced))
        params = self.derive_params(params)
        params["catch"] = params["catch"].astype(bool)
        if forced:
            self._check_forced_kept(params, forced)

        durations = self.sample_durations(params, rng)
        ms = np.empty((n, len(self.period_names)))
        for j, name in enumerate(self.period_names):
            ms[:, j] = durations[name]
        steps = np.rint(ms / self.dt)
        catch = params["catch"]
        # Checked in floats before the conversion (a forced interval of 1e300 ms must not wrap around);
        # two reductions when all is well, the details only when something is not.
        required = steps if self._all_required else steps[:, self._required_periods]
        if not steps.sum(axis=1).max() <= self.max_trial_steps or required.min() < 1:
            self._check_steps(steps, ~catch, forced)
        steps = steps.astype(np.int64)
        if catch.any():
            steps[catch] = 0
            steps[catch, 0] = round(self.catch_duration / self.dt)
        return params, steps

    def _check_forced_kept(self, params: Mapping[str, np.ndarray], forced: Mapping[str, np.ndarray]) -> None:
        """A forced value is what the batch uses: the task's derivations must not have overwritten it."""
        for name, value in forced.items():
            if not np.array_equal(params[name], value):
                changed = np.flatnonzero(params[name] != value)
                raise ValueError(f"forced parameter {name} contradicts the task's other parameters on "
                                 f"{changed.size} trial(s) (trial {changed[0]}: forced {value[changed[0]]!r}, "
                                 f"the task makes it {params[name][changed[0]]!r}); force them consistently")

    def _check_steps(self, steps: np.ndarray, regular: np.ndarray, forced: Mapping[str, np.ndarray]) -> None:
        """Refuse regular trials that are too long or have an empty period (catch trials replace their
        periods), naming the forced parameters that gave them (construction rules the rest out)."""
        total = steps.sum(axis=1)
        cause = (f"with the forced parameter(s) {', '.join(sorted(forced))}" if forced else
                 "although the task's arguments were checked when it was made (a bug: please report it)")
        too_long = regular & ~(total <= self.max_trial_steps)
        if too_long.any():
            longest = total[too_long].max()
            raise ValueError(f"{self.id}: trials of {longest:.4g} steps at dt={self.dt:g} ms {cause}, above "
                             f"max_trial_steps={self.max_trial_steps}")
        empty = (steps[:, self._required_periods] < 1) & regular[:, None]
        if empty.any():
            names = [p for p, required in zip(self.period_names, self._required_periods, strict=True) if required]
            vanished = sorted({names[j] for j in np.flatnonzero(empty.any(axis=0))})
            raise ValueError(f"{self.id}: the {', '.join(vanished)} period(s) last 0 steps at dt={self.dt:g} ms "
                             f"on {int(empty.any(axis=1).sum())} trial(s) {cause}")

    def batch_bytes(self, n: int, n_steps: int) -> int:
        """Estimated bytes of a batch of ``n`` trials of ``n_steps`` steps while it is made: its
        inputs, targets, mask and gt, the noise laid over them, the period index and what ``fill``
        adds (``fill_bytes_per_step``), plus a few hundred bytes of parameters per trial."""
        n_in, n_out = len(self.input_names), len(self.output_names)
        per_step = 6 * n_in + 8 * n_out + 8 + 8 + self.fill_bytes_per_step
        if self.input_noise:
            per_step += 9 * n_in
        per_trial = 8 * (2 * len(self.period_names) + 24)
        return n * (n_steps * per_step + per_trial)

    def _check_batch_bytes(self, n: int, n_steps: int) -> None:
        """Refuse, before allocating, a batch estimated above ``max_batch_bytes``."""
        need = self.batch_bytes(n, n_steps)
        if need > self.max_batch_bytes:
            raise ValueError(f"{self.id or type(self).__name__}.trials: {n} trial(s) of {n_steps} step(s) would take "
                             f"about {_gib(need)} of memory, above max_batch_bytes={self.max_batch_bytes} "
                             f"({_gib(self.max_batch_bytes)}); ask for fewer trials (n) or raise max_batch_bytes")

    def _assemble(self, params: dict[str, np.ndarray], steps: np.ndarray, fill_rng: np.random.Generator,
                  work: WorkArrays | None = None) -> TrialBatch:
        """The arrays of trials whose parameters and period steps are drawn, before the noise:
        the inputs are ``fill``'s signal plus the baseline, and the padding holds junk."""
        ends = np.cumsum(steps, axis=1)
        starts = ends - steps
        lengths = ends[:, -1].copy()
        self._check_batch_bytes(len(lengths), int(lengths.max()))
        periods = {k: np.stack([starts[:, i], ends[:, i]], axis=1) for i, k in enumerate(self.period_names)}

        tr = Trials(self, params, periods, lengths, fill_rng, work)
        self.fill(tr)
        if self.input_baseline:
            tr.inputs += np.float32(self.input_baseline)
        return TrialBatch(inputs=tr.inputs, targets=tr.targets, mask=tr.mask, gt=tr.gt, lengths=lengths,
                          periods=periods, params=params, dt=self.dt, extras=tr.extras)

    def _finish(self, batch: TrialBatch, noise_rngs: Sequence[np.random.Generator],
                clear_padding: bool = True, work: WorkArrays | None = None) -> TrialBatch:
        """Noise, clipping and clean padding for a batch from ``_assemble``, in place."""
        inputs, lengths = batch.inputs, batch.lengths
        n, n_steps, width = inputs.shape
        padded = n_steps * n > int(lengths.sum())      # trials of equal length have no padding
        if self.input_noise:
            counts = lengths.reshape(len(noise_rngs), -1).sum(axis=1)
            if not padded:
                self.add_input_noise(inputs.reshape(-1, width), counts, noise_rngs)
            else:   # drawn for the real steps end to end, then laid out over the padded rows
                real = _leading(lengths * width, n_steps * width)
                noise = _zeros(work, "noise", (int(lengths.sum()), width), np.float32)
                self.add_input_noise(noise, counts, noise_rngs)
                spread = _zeros(work, "spread", (n, n_steps * width), np.float32)
                spread[real] = noise.reshape(-1)      # a boolean index: fast, where an index array is not
                inputs += spread.reshape(inputs.shape)
        np.clip(inputs, *self.observation_range, out=inputs)   # rectifies too, when asked
        if clear_padding and padded:
            _clear_padding((inputs, batch.targets, batch.mask), lengths)
            np.putmask(batch.gt, np.arange(batch.n_steps)[None, :] >= lengths[:, None], -1)
        return batch

    def add_input_noise(self, steps: np.ndarray, counts: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        """Add the input noise, in place, to ``steps`` (N, n_inputs; C-contiguous): the real steps of
        trials laid end to end, the first ``counts[0]`` from ``rngs[0]``, the next ``counts[1]``
        from ``rngs[1]``... Each generator draws the noise of its steps as one ``standard_normal``
        call, so the noise of a trial never depends on the padding around it."""
        add_normals(rngs, np.asarray(counts) * steps.shape[1], steps.reshape(-1), self.input_noise_sd)

    # ------------------------------------------------------------------ validation grid
    def grid_trials(self, repeats: int, rng: np.random.Generator | int | None = None,
                    include_catch: bool = True) -> TrialBatch:
        """Every condition of ``conditions()`` ``repeats`` times, plus catch trials in the task's
        proportion, as pycog validates. Condition order is fixed; durations and noise are random."""
        grid = self.conditions()
        k = len(next(iter(grid.values())))
        n_cond = k * repeats
        n_catch = 0
        if include_catch and self.catch_prob < 1:
            n_catch = round(n_cond * self.catch_prob / (1.0 - self.catch_prob))
        forced = {name: np.concatenate([np.tile(np.asarray(v), repeats), np.repeat(np.asarray(v)[:1], n_catch)])
                  for name, v in grid.items()}
        forced["catch"] = np.r_[np.zeros(n_cond, bool), np.ones(n_catch, bool)]
        return self.trials(n_cond + n_catch, rng, **forced)

    # ------------------------------------------------------------------ scoring
    def evaluate(self, batch: TrialBatch, outputs: np.ndarray | None = None,
                 actions: np.ndarray | None = None,
                 rewards: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """Per-trial behaviour, decoded with this task's one rule.

        Give ``outputs`` (B, T, n_out) from a supervised network, or ``actions`` from an RL agent
        (replayed through the environment's reward rule): (B, T) ints of the ``Discrete`` action
        space for choice and timing tasks, (B, T, n_out) numbers inside the ``Box`` for continuous
        ones. Returns a dict of (B,) arrays with at least ``choice`` (-1: no response), ``correct``
        (NaN on catch trials) and ``rt`` (ms; NaN where there is none).

        Refused with a ValueError saying how many and where: outputs that are not finite
        numbers, and actions the environment would refuse (bools, floats for a Discrete space,
        values outside the space, non-finite values) on real steps; actions on the padding
        (``t >= lengths``, where ``gt`` is -1) are never read. ``rewards`` is checked as the
        environment checks it.
        """
        if (outputs is None) == (actions is None):
            raise ValueError("evaluate needs exactly one of outputs= or actions=")
        if outputs is not None:
            outputs = np.asarray(outputs)
            expected = (len(batch), batch.n_steps, len(self.output_names))
            if outputs.shape != expected:
                raise ValueError(f"outputs must have shape (B, T, n_out) = {expected}, got {outputs.shape}")
            if outputs.dtype.kind not in "iuf":
                raise ValueError(f"outputs must be real numbers, got an array of dtype {outputs.dtype}")
            bad = ~np.isfinite(outputs)
            if bad.any():
                raise ValueError(f"outputs must be finite: {_where(bad, 'trial, step, output')}")
            return self.rule.decode_outputs(batch, outputs)
        return self.rule.replay(batch, self.check_actions(batch, actions), rewards)

    def check_actions(self, batch: TrialBatch, actions: Any) -> np.ndarray:
        """``actions`` for ``batch`` as an array, if every one on a real step is in the action
        space (the one the environment uses); else a ValueError saying which are not."""
        actions = np.asarray(actions)
        n, n_steps = len(batch), batch.n_steps
        real = batch.valid
        if self.rule.action_kind == "discrete":
            n_actions = len(self.action_names or ())
            space = f"Discrete({n_actions})"
            if actions.shape != (n, n_steps):
                raise ValueError(f"actions must have shape (B, T) = ({n}, {n_steps}) for {space}, "
                                 f"got {actions.shape}")
            if actions.dtype.kind not in "iu":
                raise ValueError(f"actions must be ints of {space} (0 to {n_actions - 1}), got an array of dtype "
                                 f"{actions.dtype}")
            bad = ((actions < 0) | (actions >= n_actions)) & real
            if bad.any():
                raise ValueError(f"actions must lie in {space} (0 to {n_actions - 1}) on every real step: "
                                 f"{_where(bad, 'trial, step', actions)}")
            return actions
        width = len(self.output_names)
        lo, hi = (np.float32(x) for x in self.output_range)
        space = f"Box({lo:g}, {hi:g}, ({width},))"
        if actions.shape != (n, n_steps, width):
            raise ValueError(f"actions must have shape (B, T, n_out) = ({n}, {n_steps}, {width}) for {space}, "
                             f"got {actions.shape}")
        if actions.dtype.kind not in "iuf":
            raise ValueError(f"actions must be numbers in {space}, got an array of dtype {actions.dtype}")
        as_float32 = actions.astype(np.float32)        # compared as the environment compares them
        bad = ~((as_float32 >= lo) & (as_float32 <= hi)) & real[:, :, None]
        if bad.any():
            raise ValueError(f"actions must be finite numbers in {space} on every real step: "
                             f"{_where(bad, 'trial, step, output', actions)}")
        return actions

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Summary numbers of an evaluation; ``criterion.metric`` is one of them.

        ``percent_correct`` over non-catch trials, and ``min_condition_percent_correct``, the
        worst condition of ``conditions()``.
        """
        correct = np.asarray(evaluation["correct"], dtype=float)
        keep = ~np.isnan(correct)
        out = {"percent_correct": float(100.0 * correct[keep].mean()) if keep.any() else float("nan")}
        if "rmse" in evaluation:
            out["rmse"] = float(np.sqrt(np.mean(np.square(evaluation["rmse"]))))
        try:
            grid = self.conditions()
        except NotImplementedError:
            return out
        worst = math.inf
        for j in range(len(next(iter(grid.values())))):
            sel = keep.copy()
            for name, values in grid.items():
                sel &= np.isclose(batch.params[name].astype(float), float(values[j]))
            if sel.any():
                worst = min(worst, 100.0 * correct[sel].mean())
        out["min_condition_percent_correct"] = float(worst) if math.isfinite(worst) else float("nan")
        return out

    # ------------------------------------------------------------------ description
    def describe(self) -> dict[str, Any]:
        """Metadata for ``neurotasks list``, the README table and the environment."""
        return {
            "id": self.id, "summary": self.summary, "tags": list(self.tags), "reference": self.reference,
            "inputs": list(self.input_names), "outputs": list(self.output_names),
            "actions": list(self.action_names) if self.action_names else f"Box({len(self.output_names)})",
            "periods": list(self.period_names), "criterion": str(self.criterion), "dt": self.dt,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{type(self).__name__}({args})"


def _where(bad: np.ndarray, axes: str, values: np.ndarray | None = None) -> str:
    """'3 value(s) are not, the first at (trial, step) = (0, 5)[: 99]' for an error message."""
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    shown = f": {np.asarray(values[first]).item()!r}" if values is not None else ""
    return f"{int(bad.sum())} value(s) are not, the first at ({axes}) = {first}{shown}"


def _steps(ms: float, dt: float) -> float:
    """Steps of a duration of ``ms`` at ``dt`` (rounded, as trials round them); inf if unbounded."""
    return float(np.rint(ms / dt)) if math.isfinite(ms) else math.inf


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GiB"


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _zeros(work: WorkArrays | None, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Zeros of ``shape``: fresh, or in the memory ``work`` keeps under ``name``."""
    if work is None:
        return np.zeros(shape, dtype)
    out = work(name, shape, dtype)
    out.fill(0)
    return out


def _leading(counts: np.ndarray, width: int) -> np.ndarray:
    """(len(counts), width) bool: True on the first ``counts[i]`` entries of row i (one ``np.repeat``
    of runs, several times faster than a broadcast comparison)."""
    runs = np.stack([counts, width - counts], axis=1).ravel()
    return np.repeat(np.tile(np.array([True, False]), len(counts)), runs).reshape(len(counts), width)


def _clear_padding(arrays: Sequence[np.ndarray], lengths: np.ndarray) -> None:
    """Zero the steps past each trial's length in (B, T, C) float arrays, in place.

    Each is seen as (B, T C) rows whose first ``length C`` entries are kept: a multiply with long
    inner loops (a (B, T, 1) mask would loop over only C entries at a time, several times slower).
    """
    masks: dict[int, np.ndarray] = {}
    for array in arrays:
        n, n_steps, width = array.shape
        if width not in masks:
            masks[width] = _leading(lengths * width, n_steps * width).astype(array.dtype)
        rows = array.reshape(n, n_steps * width)
        np.multiply(rows, masks[width], out=rows)


# ---------------------------------------------------------------------- argument checks
def check_number(value: Any, name: str) -> float:
    """A finite real number (not a bool) that float32 can hold (trials are float32) -> float, or a
    ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive(value: Any, name: str) -> float:
    value = check_number(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def _nonnegative(value: Any, name: str) -> float:
    value = check_number(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _probability(value: Any, name: str) -> float:
    value = check_number(value, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return value


def check_duration(value: Any, name: str, *, allow_zero: bool = False) -> Duration:
    """A user's duration argument -> Duration, with a ValueError naming ``name`` if it is invalid."""
    duration = as_duration(value, name)
    if duration.min < 0 or (not allow_zero and duration.max <= 0):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} duration in ms, "
                         f"got {value!r}")
    return duration


def check_milliseconds(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """A fixed duration in ms (a number; a Duration gives its longest value), finite, > 0 (or
    >= 0 when ``allow_zero``) -> float, or a ValueError naming ``name``."""
    ms = check_duration(value, name, allow_zero=allow_zero).max
    if not math.isfinite(ms):
        raise ValueError(f"{name} must be a finite duration in ms, got {value!r}")
    return float(ms)


def check_values(values: Any, name: str, low: float = -math.inf, high: float = math.inf, *,
                 low_inclusive: bool = True, distinct: bool = False) -> np.ndarray:
    """A non-empty list of finite numbers in [low, high] (or (low, high] when ``low_inclusive``
    is False; no repeats when ``distinct``) -> float array, or a ValueError naming ``name``."""
    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of numbers, got {values!r}") from None
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    below = arr < low if low_inclusive else arr <= low
    if not np.all(np.isfinite(arr)) or below.any() or np.any(arr > high):
        interval = f"{'[' if low_inclusive else '('}{low:g}, {high:g}]"
        raise ValueError(f"{name} must be finite numbers in {interval}, got {values!r}")
    if distinct and np.unique(arr).size != arr.size:
        raise ValueError(f"{name} must not repeat a value, got {values!r}")
    return arr


# Names re-exported for task modules.
__all__ = ["MAX_BATCH_BYTES", "MAX_CHANNELS", "MAX_TRIAL_STEPS", "TASK_CLASSES", "Task", "TaskMeta", "Trials",
           "as_generator", "check_duration", "check_milliseconds", "check_number", "check_values"]
