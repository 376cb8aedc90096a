"""Path integration in a square arena (Cueva & Wei 2018; Sorscher et al. 2022)."""

from __future__ import annotations

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Reals
from neurotasks.noise import standard_normal
from neurotasks.rules import TrackingRule
from neurotasks.task import (
    MAX_BATCH_BYTES,
    MAX_CHANNELS,
    MAX_TRIAL_STEPS,
    Task,
    Trials,
    check_duration,
    check_milliseconds,
)
from neurotasks.timing import Choice, Constant, Duration, PeriodTiming, Uniform

#: Ratio of the surround to the centre width of difference-of-Gaussians place fields (Sorscher et al.).
SURROUND_SCALE = 2.0
#: Amplitude of the surround relative to the centre, before normalising the peak to 1.
SURROUND_AMPLITUDE = 0.5
#: Speeds are Rayleigh-distributed and clipped at this many times the Rayleigh scale.
MAX_SPEED_SCALES = 3.0


def fold(u: np.ndarray, half_width: float, out: np.ndarray | None = None) -> np.ndarray:
    """Reflect coordinates into [-half_width, half_width] (a triangle wave, period 4 half-widths).

    An unbounded path folded this way bounces off the walls like a specular reflection, and
    it stays continuous, so it is a path inside the arena with no sequential wall logic.
    Works in the dtype of ``u`` (or of ``out``, which may be ``u`` itself).
    """
    folded = np.asarray(np.subtract(u, half_width, out=out))
    return _fold_shifted(folded, half_width, np.empty_like(folded))


def _fold_shifted(a: np.ndarray, half_width: float, work: np.ndarray) -> np.ndarray:
    """``fold`` of ``a`` + half_width, in place in ``a``, with ``work`` (same shape) as scratch.

    half_width - |a - period * rint(a / period)|: the distance to the nearest multiple of the
    period is a triangle wave (at ties, both neighbours give the same value).
    """
    period = 4.0 * half_width
    np.multiply(a, 1.0 / period, out=work)
    np.rint(work, out=work)
    work *= period
    a -= work
    np.abs(a, out=a)
    np.subtract(half_width, a, out=a)
    return np.maximum(a, -half_width, out=a)                             # rounding can overshoot by an ulp


def place_cell_activity(position: np.ndarray, centres: np.ndarray, width: float, tuning: str) -> np.ndarray:
    """(..., n_cells) activity of place cells at ``position`` (..., 2).

    ``"gaussian"``: exp(-d^2 / 2 w^2), peak 1. ``"dog"``: a centre Gaussian of width w minus half a
    surround of width 2w, scaled to peak 1 (range [-0.375, 1]).
    """
    d2 = np.sum(np.square(position[..., None, :] - centres), axis=-1)
    centre = np.exp(-d2 / (2.0 * width**2))
    if tuning == "gaussian":
        return centre
    surround = np.exp(-d2 / (2.0 * (SURROUND_SCALE * width) ** 2))
    return (centre - SURROUND_AMPLITUDE * surround) / (1.0 - SURROUND_AMPLITUDE)


class PathIntegration(Task):
    """Track your position in an arena from velocity inputs alone.

    ## Description
    The path-integration task in which grid-like units emerge in trained networks (Cueva &
    Wei 2018; Sorscher et al. 2022). A simulated animal runs along a smooth random path in a
    square arena centred at 0; the agent receives its velocity every step and its starting
    position for the first 100 ms only, and must report its current position (or the activity
    of a population of place cells there).

    Paths are built without any per-step Python: the heading is a random walk (a cumulative
    sum of Gaussian turns, diffusion `turning` rad/sqrt(s)), the speed is constant within a
    trial (Rayleigh-distributed across trials), and the unbounded path is folded into the
    arena with a triangle wave, so walls reflect the animal like mirrors. The velocity inputs
    are the step-to-step differences of the folded path divided by dt, so the position is
    the start plus the cumulative sum of velocity x dt (exactly, up to float32 rounding: paths
    are computed in float32, so the identity holds to ~1e-7 and the speed carries a rounding
    jitter of about ulp(distance run) / dt, ~1e-5 units/s in default trials).

    ## Inputs
    | channel | during | value |
    |---|---|---|
    | `velocity_x`, `velocity_y` | every step | velocity (arena units per second) |
    | `start_x`, `start_y` | start | the starting position |

    No input noise by default (`input_noise` adds white noise, per-step sd sqrt(2 tau_in/dt) sigma).

    ## Outputs and actions
    `outputs="position"` (default): `position_x`, `position_y`, the position at the end of
    each step: start + sum of velocity x dt up to and including that step. `outputs="place_cells"`:
    `place_1` ... `place_n`, the activity of `n_place_cells` cells there (Gaussian or
    difference-of-Gaussians fields of width `place_cell_width`, centres uniform in the arena
    from `place_cell_seed`, the same in every trial; `task.place_cell_centres`). Every step is
    constrained. `extras["position"]` (B, T, 2) always holds the path.
    Actions: `Box(-arena_size/2, arena_size/2, (2,))` for positions (so `Box(-1, 1)` by
    default), `Box(-1, 1, (n_place_cells,))` for place cells.

    ## Periods
    start 100 ms (`start_duration`), then navigation to the end of `duration` (2000 ms).

    ## Rewards
    Each step earns minus the mean squared error of the outputs; no aborts.

    ## Criterion
    Validation RMSE <= 0.05 (2.5 % of the default arena); a trial is correct when its own RMSE
    is <= 0.05. There is no condition grid.

    ## Arguments
    `dt` (20 ms), `duration` (2000), `start_duration` (100), `arena_size` (side, 2.0: positions
    in [-1, 1]; Sorscher et al. used a 2.2 m box, `arena_size=2.2`, whose action box then
    exceeds the [-1, 1] that the Gymnasium and SB3 checkers recommend), `speed` (Rayleigh scale
    of the speed, 0.5 units/s; clipped at 3x), `turning` (heading diffusion, 2 rad/sqrt(s)),
    `outputs` ("position" or "place_cells"), `n_place_cells` (64), `place_cell_width` (0.2),
    `place_cell_tuning` ("gaussian" or "dog"), `place_cell_seed` (0), `input_noise` (0),
    `tau_in` (100). `arena_size`, `speed` and `place_cell_width` lie in [1e-6, 1e6] (`turning`
    may also be 0), and `n_place_cells` in [1, 10,000]: paths are computed in float32.
    Trial parameters: `start_x`, `start_y` (in the arena), `speed` (at most 3x its scale),
    `heading` (initial, rad, in [-2 pi, 2 pi] when forced).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Cueva & Wei (2018) ICLR, "Emergence of grid-like representations by training recurrent
    neural networks to perform spatial localization"; Sorscher, Mel, Ocko, Giocomo & Ganguli
    (2022) Neuron 111: 121.

    ## Version history
    v0: first version. Paths are now computed in float32 (the same specification; a given seed
    gives different trials than before).
    """

    id = "PathIntegration-v0"
    summary = "Integrate velocity inputs to track position in a square arena (Cueva & Wei 2018; Sorscher et al.)"
    tags = ("navigation", "integration", "grid cells", "continuous output")
    reference = "Cueva & Wei 2018; Sorscher et al. 2022"
    period_names = ("start", "navigation")
    input_names = ("velocity_x", "velocity_y", "start_x", "start_y")
    action_names = None
    criterion = Criterion("rmse", "<=", 0.05)
    suggested_network = {"n_units": 100, "tau": 20.0}
    fill_bytes_per_step = 32      # fill's float32 heading and complex64 path, and a scratch array

    def __init__(self, *, dt: float = 20.0, duration: float | Duration = 2000.0, start_duration: float = 100.0,
                 arena_size: float = 2.0, speed: float = 0.5, turning: float = 2.0, outputs: str = "position",
                 n_place_cells: int = 64, place_cell_width: float = 0.2, place_cell_tuning: str = "gaussian",
                 place_cell_seed: int = 0, input_noise: float = 0.0, tau_in: float = 100.0,
                 max_trial_steps: int = MAX_TRIAL_STEPS, max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, input_noise=input_noise, tau_in=tau_in, max_trial_steps=max_trial_steps,
                         max_batch_bytes=max_batch_bytes)
        self.arena_size = _positive_number(arena_size, "arena_size")
        self.speed = _positive_number(speed, "speed")
        self.turning = _positive_number(turning, "turning", allow_zero=True)
        self.start_duration = check_milliseconds(start_duration, "start_duration")
        self.period_timing["start"] = PeriodTiming("start_duration", Constant(self.start_duration))
        self.duration = check_duration(duration, "duration")
        if self.duration.min <= self.start_duration:
            raise ValueError(f"duration must be longer than start_duration ({self.start_duration:g} ms), "
                             f"got {duration!r}")
        self.period_timing["navigation"] = PeriodTiming("duration (minus start_duration)",
                                                        _shifted(self.duration, -self.start_duration))
        if outputs not in ("position", "place_cells"):
            raise ValueError(f"outputs must be 'position' or 'place_cells', got {outputs!r}")
        self.outputs = outputs
        half = self.arena_size / 2.0
        self.max_speed = MAX_SPEED_SCALES * self.speed
        bound = max(self.max_speed, half)
        self.signal_range = (-bound, bound)
        if isinstance(n_place_cells, bool) or not isinstance(n_place_cells, (int, np.integer)) \
                or not 1 <= n_place_cells <= MAX_CHANNELS:
            raise ValueError(f"n_place_cells must be an int in [1, {MAX_CHANNELS}], got {n_place_cells!r}")
        if place_cell_tuning not in ("gaussian", "dog"):
            raise ValueError(f"place_cell_tuning must be 'gaussian' or 'dog', got {place_cell_tuning!r}")
        if isinstance(place_cell_seed, bool) or not isinstance(place_cell_seed, (int, np.integer)) \
                or place_cell_seed < 0:
            raise ValueError(f"place_cell_seed must be an int >= 0, got {place_cell_seed!r}")
        self.place_cell_width = _positive_number(place_cell_width, "place_cell_width")
        self.place_cell_tuning = place_cell_tuning
        #: (n_place_cells, 2) field centres, uniform in the arena, the same for every trial.
        self.place_cell_centres = np.random.default_rng(place_cell_seed).uniform(-half, half, size=(n_place_cells, 2))
        if outputs == "position":
            self.output_names = ("position_x", "position_y")
            self.output_range = (-half, half)
        else:
            self.output_names = tuple(f"place_{i + 1}" for i in range(int(n_place_cells)))
            self.output_range = (-1.0, 1.0)
        self.rule = TrackingRule(success_rmse=self.criterion.threshold)

    def sample_params(self, n, rng):
        half = self.arena_size / 2.0
        return {
            "start_x": rng.uniform(-half, half, size=n),
            "start_y": rng.uniform(-half, half, size=n),
            "speed": np.minimum(rng.rayleigh(self.speed, size=n), self.max_speed),
            "heading": rng.uniform(0.0, 2.0 * np.pi, size=n),
        }

    def param_domains(self):
        half = self.arena_size / 2.0
        arena = Reals(-half, half, what="inside the arena")
        return {**super().param_domains(), "start_x": arena, "start_y": arena,
                "speed": Reals(0.0, self.max_speed, what=f"units/s, at most {MAX_SPEED_SCALES:g} x the speed scale"),
                "heading": Reals(-2 * np.pi, 2 * np.pi, what="rad")}

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        return {"start": np.full(n, self.start_duration),
                "navigation": self.duration.sample(n, rng) - self.start_duration}

    def fill(self, tr: Trials) -> None:
        # Float32 throughout (memory traffic is what costs here), x and y together as one complex64
        # path x + iy: one running sum for both axes, a (B, 2T) float32 view to fold in one pass,
        # and a complex64 view of the (B, T, 4) inputs to write (x, y) pairs in long loops.
        p = tr.params
        n, n_steps = tr.n, tr.n_steps
        dt_s = tr.dt / 1000.0
        half = self.arena_size / 2.0
        heading = standard_normal(tr.rng, n * n_steps).reshape(n, n_steps)          # (B, T) turns
        heading *= np.float32(self.turning * np.sqrt(dt_s))
        heading[:, 0] += p["heading"].astype(np.float32)
        np.cumsum(heading, axis=1, out=heading)
        path = np.empty((n, n_steps), dtype=np.complex64)                           # x + iy
        xy = path.view(np.float32)                                                  # (B, 2T): x, y, x, y...
        np.cos(heading, out=xy[:, 0::2])
        np.sin(heading, out=xy[:, 1::2])
        xy *= (p["speed"] * dt_s).astype(np.float32)[:, None]
        start = (p["start_x"] + 1j * p["start_y"]).astype(np.complex64)
        path[:, 0] += start - np.complex64(half * (1 + 1j))                        # fold wants u - half
        np.cumsum(path, axis=1, out=path)
        # The mask's memory (not yet written) serves as scratch when it is big enough.
        scratch = tr.mask.reshape(-1)[:xy.size].reshape(xy.shape) if tr.mask.size >= xy.size else None
        _fold_shifted(xy, half, work=np.empty_like(xy) if scratch is None else scratch)
        if bool(np.any(tr.lengths < n_steps)):       # the padding holds the trial's last position
            last = path[np.arange(n), tr.lengths - 1]
            np.copyto(path, last[:, None], where=tr.t >= tr.lengths[:, None])

        # Velocity: the step-to-step differences of the float32 folded path divided by dt, so
        # position = start + the running sum of velocity x dt up to rounding of the division.
        pairs = tr.inputs.view(np.complex64)                                        # (B, T, 2): velocity, start
        velocity = pairs[:, :, 0]
        np.subtract(path[:, :1], start[:, None], out=velocity[:, :1])
        np.subtract(path[:, 1:], path[:, :-1], out=velocity[:, 1:])
        velocity *= np.float32(1.0 / dt_s)
        # The starting position during the start period (the first steps of every trial), 0 after.
        shown = tr.periods["start"][:, 1]                                           # (B,) end of the start period
        first = int(shown.max())
        np.multiply(tr.t[:first] < shown[:, None], start[:, None], out=pairs[:, :first, 1])

        position = xy.reshape(n, n_steps, 2)
        if self.outputs == "position":
            tr.targets[:] = position
        else:
            self.place_cells(position, out=tr.targets)
        tr.mask[:] = 1.0
        tr.extras["position"] = position

    def place_cells(self, position: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``place_cell_activity`` at ``position`` (B, T, 2) float32, written into ``out`` (B, T, n_cells) float32.

        The exponent -d^2 / 2 w^2 of every (step, cell) pair comes from one float32 matrix product,
        d^2 = |p|^2 - 2 p.c + |c|^2: [x, y, 1, |p|^2] @ (4, n_cells) weights. Cancellation in the
        expansion costs absolute errors up to ~1e-5 on the activity (float32 targets; the
        criterion is an RMSE of 0.05).
        """
        xy = position.reshape(-1, 2)
        features = np.empty((len(xy), 4), dtype=np.float32)
        features[:, :2] = xy
        features[:, 2] = 1.0
        np.square(xy, out=features[:, 2:])
        features[:, 3] += features[:, 2]
        features[:, 2] = 1.0
        centres = self.place_cell_centres
        scale = -1.0 / (2.0 * self.place_cell_width**2)
        weights = np.stack([-2.0 * scale * centres[:, 0], -2.0 * scale * centres[:, 1],
                            scale * np.sum(np.square(centres), axis=1),
                            np.full(len(centres), scale)]).astype(np.float32)          # (4, n_cells)
        exponent = np.matmul(features, weights, out=out.reshape(len(xy), -1))
        np.minimum(exponent, 0.0, out=exponent)                                  # d^2 >= 0
        if self.place_cell_tuning == "gaussian":
            np.exp(exponent, out=exponent)
            return out
        surround = np.multiply(exponent, 1.0 / SURROUND_SCALE**2)             # the same d^2 over (2w)^2
        np.exp(surround, out=surround)
        surround *= SURROUND_AMPLITUDE / (1.0 - SURROUND_AMPLITUDE)
        np.exp(exponent, out=exponent)
        exponent *= 1.0 / (1.0 - SURROUND_AMPLITUDE)
        exponent -= surround
        return out


def _shifted(duration: Duration, ms: float) -> Duration:
    """``duration`` plus ``ms``, for its bounds (the navigation period is the trial minus the start)."""
    if duration.min == duration.max:
        return Choice((duration.min + ms,))
    if hasattr(duration, "values"):
        return Choice(tuple(v + ms for v in duration.values))
    return Uniform(duration.min + ms, duration.max + ms)


#: Sizes, speeds and widths must lie in [SCALE_MIN, SCALE_MAX]: paths and place fields are
#: computed in float32, whose range and precision they must fit with room to spare.
SCALE_MIN, SCALE_MAX = 1e-6, 1e6


def _positive_number(value: object, name: str, allow_zero: bool = False) -> float:
    """A number in [SCALE_MIN, SCALE_MAX] (or 0 when ``allow_zero``), or a ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (SCALE_MIN <= value <= SCALE_MAX or (value == 0 and allow_zero)):
        raise ValueError(f"{name} must be a number in [{SCALE_MIN:g}, {SCALE_MAX:g}]{' or 0' if allow_zero else ''}, "
                         f"got {value!r}")
    return float(value)
