"""Path integration in a square arena (Cueva & Wei 2018; Sorscher et al. 2022)."""

from __future__ import annotations

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.rules import TrackingRule
from neurotasks.task import Task, Trials, check_duration
from neurotasks.timing import Duration

#: Ratio of the surround to the centre width of difference-of-Gaussians place fields (Sorscher et al.).
SURROUND_SCALE = 2.0
#: Amplitude of the surround relative to the centre, before normalising the peak to 1.
SURROUND_AMPLITUDE = 0.5
#: Speeds are Rayleigh-distributed and clipped at this many times the Rayleigh scale.
MAX_SPEED_SCALES = 3.0


def fold(u: np.ndarray, half_width: float) -> np.ndarray:
    """Reflect coordinates into [-half_width, half_width] (a triangle wave, period 4 half-widths).

    An unbounded path folded this way bounces off the walls like a specular reflection, and
    it stays continuous, so it is a path inside the arena with no sequential wall logic.
    """
    width = 2.0 * half_width
    # np.mod(u + half_width, 2 width), computed as NumPy does (fmod, then + the divisor where
    # negative, and -0.0 -> 0.0) but several times faster than np.mod's floor-division path.
    folded = np.asarray(np.add(u, half_width))
    np.fmod(folded, 2.0 * width, out=folded)
    np.add(folded, 2.0 * width, out=folded, where=folded < 0)
    folded += 0.0
    folded -= width
    np.abs(folded, out=folded)
    return half_width - folded


def place_cell_activity_xy(x: np.ndarray, y: np.ndarray, centres: np.ndarray, width: float, tuning: str,
                           out: np.ndarray | None = None) -> np.ndarray:
    """``place_cell_activity`` of positions given as separate x and y arrays, written into ``out``
    if given (e.g. float32 targets): the same values, computed in place, without the
    (..., n_cells, 2) temporary."""
    d2 = np.subtract(x[..., None], centres[:, 0])
    np.square(d2, out=d2)
    dy = np.subtract(y[..., None], centres[:, 1])
    np.square(dy, out=dy)
    d2 += dy
    np.negative(d2, out=d2)                                                       # -d^2
    if tuning == "gaussian":
        np.divide(d2, 2.0 * width**2, out=d2)
        return np.exp(d2, out=d2 if out is None else out)
    surround = np.divide(d2, 2.0 * (SURROUND_SCALE * width) ** 2, out=dy)
    np.exp(surround, out=surround)
    surround *= SURROUND_AMPLITUDE
    centre = np.divide(d2, 2.0 * width**2, out=d2)
    np.exp(centre, out=centre)
    centre -= surround
    return np.divide(centre, 1.0 - SURROUND_AMPLITUDE, out=centre if out is None else out)


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
    exactly the start plus the cumulative sum of velocity x dt.

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
    `tau_in` (100). Trial parameters: `start_x`, `start_y`, `speed`, `heading` (initial, rad).

    ## Reference
    Cueva & Wei (2018) ICLR, "Emergence of grid-like representations by training recurrent
    neural networks to perform spatial localization"; Sorscher, Mel, Ocko, Giocomo & Ganguli
    (2022) Neuron 111: 121.

    ## Version history
    v0: first version.
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

    def __init__(self, *, dt: float = 20.0, duration: float | Duration = 2000.0, start_duration: float = 100.0,
                 arena_size: float = 2.0, speed: float = 0.5, turning: float = 2.0, outputs: str = "position",
                 n_place_cells: int = 64, place_cell_width: float = 0.2, place_cell_tuning: str = "gaussian",
                 place_cell_seed: int = 0, input_noise: float = 0.0, tau_in: float = 100.0) -> None:
        super().__init__(dt=dt, input_noise=input_noise, tau_in=tau_in)
        self.arena_size = _positive_number(arena_size, "arena_size")
        self.speed = _positive_number(speed, "speed")
        self.turning = _positive_number(turning, "turning", allow_zero=True)
        self.start_duration = check_duration(start_duration, "start_duration").max
        self.duration = check_duration(duration, "duration")
        if self.duration.min <= self.start_duration:
            raise ValueError(f"duration must be longer than start_duration ({self.start_duration:g} ms), "
                             f"got {duration!r}")
        if outputs not in ("position", "place_cells"):
            raise ValueError(f"outputs must be 'position' or 'place_cells', got {outputs!r}")
        self.outputs = outputs
        half = self.arena_size / 2.0
        self.max_speed = MAX_SPEED_SCALES * self.speed
        bound = max(self.max_speed, half)
        self.signal_range = (-bound, bound)
        if isinstance(n_place_cells, bool) or not isinstance(n_place_cells, (int, np.integer)) or n_place_cells < 1:
            raise ValueError(f"n_place_cells must be an int >= 1, got {n_place_cells!r}")
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

    def check_params(self, params):
        half = self.arena_size / 2.0
        for name in ("start_x", "start_y"):
            if np.any(~(np.abs(params[name]) <= half)):
                raise ValueError(f"{name} must lie in the arena [-{half:g}, {half:g}], got {np.unique(params[name])}")
        if np.any(~((params["speed"] >= 0) & (params["speed"] <= self.max_speed))):
            raise ValueError(f"speed must lie in [0, {self.max_speed:g}], got {np.unique(params['speed'])}")
        if np.any(~np.isfinite(params["heading"])):
            raise ValueError("heading must be finite")

    def sample_durations(self, params, rng):
        n = len(params["catch"])
        return {"start": np.full(n, self.start_duration),
                "navigation": self.duration.sample(n, rng) - self.start_duration}

    def fill(self, tr: Trials) -> None:
        # x and y are computed as separate (B, T) float64 arrays (contiguous, so every op runs at
        # full speed) with exactly the operations of the (B, T, 2) formulation documented above.
        p = tr.params
        dt_s = tr.dt / 1000.0
        half = self.arena_size / 2.0
        turns = tr.rng.standard_normal((tr.n, tr.n_steps)) * (self.turning * np.sqrt(dt_s))
        heading = p["heading"][:, None] + np.cumsum(turns, axis=1)                        # (B, T)
        step_length = (p["speed"] * dt_s)[:, None]
        padded = bool(np.any(tr.lengths < tr.n_steps))
        last = (np.arange(tr.n), tr.lengths - 1)
        position = np.empty((tr.n, tr.n_steps, 2), dtype=np.float32)
        place_xy = []
        for axis, (start, direction) in enumerate(((p["start_x"], np.cos), (p["start_y"], np.sin))):
            u = np.cumsum(step_length * direction(heading), axis=1)
            u += start[:, None]
            u = fold(u, half)                                                             # (B, T)
            if padded:                                 # the padding holds the trial's last position
                u = np.where(tr.t[None, :] < tr.lengths[:, None], u, u[last][:, None])
            velocity = np.empty_like(u)
            np.subtract(u[:, :1], start[:, None], out=velocity[:, :1])
            np.subtract(u[:, 1:], u[:, :-1], out=velocity[:, 1:])
            velocity /= dt_s
            tr.inputs[:, :, axis] = velocity
            position[:, :, axis] = u
            place_xy.append(u)

        # The starting position during the start period, start x 0 elsewhere (as bool x start gave).
        start = np.stack([p["start_x"], p["start_y"]], axis=-1)                           # (B, 2)
        table = (np.array([1.0, 0.0, 0.0])[:, None] * start[:, None, :]).astype(np.float32)   # start, navigation, pad
        shown = np.empty((tr.n, tr.n_steps, 2), dtype=np.float32)
        tr.inputs[:, :, 2:] = tr.lay_out(table, tr.runs(tr.period_steps, np.arange(3), 3), shown)
        if self.outputs == "position":
            tr.targets[:] = position
        else:
            place_cell_activity_xy(*place_xy, self.place_cell_centres, self.place_cell_width,
                                   self.place_cell_tuning, out=tr.targets)
        tr.mask[:] = 1.0
        tr.extras["position"] = position


def _positive_number(value: object, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return float(value)
