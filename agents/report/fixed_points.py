"""Fixed and slow points of the trained network with its input held constant (Sussillo & Barak 2013;
:mod:`agents.analysis.fixed_points`), their Jacobian eigenvalues and stability, drawn on the principal
components of the network's own trajectories.

The input is held at the median over trials of each trial's first input (for FlipFlop-v0: no pulse,
where the memory states must be attractors: 2ⁿ stable points for n bits, with saddles between them).
The search starts from states visited on the report's trials (a rate network's drive W_rec r + W_in u + b,
which equals the state at a fixed point), jittered a little.
"""

from __future__ import annotations

import numpy as np

from agents.analysis.fixed_points import find_fixed_points, model_velocity, sample_states
from agents.analysis.state_space import fit_pca
from agents.plots.save import new_figure
from agents.report.section import Section
from agents.report.subject import Skip, Subject

#: initial states of the search
N_STARTS = 48
#: speed q = ½‖F‖² below which a point is fixed, and below which it is kept as a slow point
FIXED_Q, SLOW_Q = 1e-8, 1e-4
#: eigenvalues kept per point in report.json (the most unstable first)
N_EIGENVALUES = 6


def states_from_rates(subject: Subject, rates: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """State-space points behind ``rates``: for a rate network its drive x = W_rec r + W_in u + b_rec, which is the
    state itself at a fixed point (x* = W_rec f(x*) + W_in u + b) and close to it where the flow is slow (unlike
    f⁻¹(r), undefined for silent ReLU units); h for a GRU, [h, c] for an LSTM."""
    if hasattr(subject.model, "states"):                         # LSTM: its cell state is not in the rates
        import torch

        h, c = subject.model.states(torch.as_tensor(inputs, dtype=torch.float32))
        return np.concatenate([h, c], axis=-1)
    if not subject.rate_network:
        return rates.astype(float)
    weights = subject.model.effective_weights()
    drive = rates.astype(float) @ np.asarray(weights["W_rec"], dtype=float).T
    drive += np.asarray(inputs, dtype=float) @ np.asarray(weights["W_in"], dtype=float).T
    return drive + np.asarray(weights.get("b_rec", 0.0), dtype=float)


def fixed_points(subject: Subject, section: Section) -> None:
    subject.need_rates("the fixed-point search")
    batch, _, _, rates = subject.standard()
    inputs = np.median(batch.inputs[:, 0], axis=0).astype(float)
    try:
        velocity = model_velocity(subject.model, inputs)
    except TypeError as err:
        raise Skip(str(err)) from None
    valid = batch.valid
    states = states_from_rates(subject, rates, batch.inputs)[valid]
    scale = float(np.std(states)) or 1.0
    starts = sample_states(states, N_STARTS, rng=subject.rng(40), noise=0.02 * scale)
    found = find_fixed_points(velocity, starts, max_iter=300, fixed_tolerance=FIXED_Q, slow_tolerance=SLOW_Q,
                              distinct_tolerance=0.05 * scale * np.sqrt(states.shape[1]))
    if len(found) == 0:
        section.notes.append(f"no point with speed q < {SLOW_Q:g} found from {N_STARTS} starts")
    rates_of = _rates_of(subject, velocity, found.states)
    section.numbers = {"input": inputs, "n_starts": N_STARTS, "fixed_q": FIXED_Q, "slow_q": SLOW_Q,
                       "discrete_time": found.discrete_time, "n_points": len(found),
                       "n_fixed": int(found.is_fixed.sum()), "n_slow": int((~found.is_fixed).sum()),
                       "n_stable": int(found.stable.sum()),
                       "n_stable_fixed": int((found.stable & found.is_fixed).sum()),
                       "points": [{"speed": float(found.speed[k]), "fixed": bool(found.is_fixed[k]),
                                   "stable": bool(found.stable[k]), "n_unstable": int(found.n_unstable[k]),
                                   "eigenvalues_real": found.eigenvalues[k, :N_EIGENVALUES].real,
                                   "eigenvalues_imag": found.eigenvalues[k, :N_EIGENVALUES].imag}
                                  for k in range(len(found))]}
    pca = fit_pca(rates[valid], n_components=min(3, rates.shape[-1]))
    fig = new_figure(9.0, 4.0)
    ax_pc, ax_eig = fig.subplots(1, 2)
    for i in range(min(len(batch), 8)):
        path = pca.project(rates[i, : int(batch.lengths[i])])
        ax_pc.plot(path[:, 0], path[:, 1], color="0.8", lw=0.6, zorder=0)
    if len(found):
        points = pca.project(rates_of)
        for k in range(len(found)):
            style = dict(marker="o", ms=7, color="k") if found.stable[k] else \
                dict(marker="o", ms=7, mfc="white", color="tab:red")
            if not found.is_fixed[k]:
                style["alpha"] = 0.5
            ax_pc.plot(points[k, 0], points[k, 1], ls="none", **style)
        for k in range(len(found)):
            ax_eig.scatter(found.eigenvalues[k].real, found.eigenvalues[k].imag, s=6,
                           color="k" if found.stable[k] else "tab:red", alpha=0.6)
    if found.discrete_time:
        theta = np.linspace(0, 2 * np.pi, 200)
        ax_eig.plot(np.cos(theta) - 1, np.sin(theta), color="0.6", lw=0.8)
        ax_eig.set_title("eigenvalues λ of ∂F/∂h (stable inside |1+λ| = 1)", fontsize=8)
    else:
        ax_eig.axvline(0, color="0.6", lw=0.8)
        ax_eig.set_title("eigenvalues of the Jacobian τ ∂F/∂x (stable: Re < 0)", fontsize=8)
    ax_eig.set_xlabel("real")
    ax_eig.set_ylabel("imaginary")
    ax_pc.set_xlabel(f"PC1 ({100 * pca.explained_variance_ratio[0]:.0f}%)")
    ax_pc.set_ylabel(f"PC2 ({100 * pca.explained_variance_ratio[1]:.0f}%)")
    ax_pc.set_title(f"{int(found.stable.sum())} stable (black) / {len(found) - int(found.stable.sum())} unstable "
                    "(red) points; faint: slow", fontsize=8)
    fig.suptitle(f"{subject.task.id} ({subject.model_name}): fixed and slow points, input held at the trials' "
                 "first input", fontsize=9)
    section.figure(fig, "fixed_points", "Fixed (solid/ring) and slow (faint) points on the trajectories' first two "
                   "PCs (grey: trials), and every point's Jacobian eigenvalues.",
                   "Sussillo & Barak 2013, Fig. 2-3 (flip-flop); Valente 2022 lecture, fixed points")


def _rates_of(subject: Subject, velocity, states: np.ndarray) -> np.ndarray:
    """The rates (or hidden state h) at state-space points, to draw them with the trajectories."""
    if states.shape[0] == 0:
        return states
    if hasattr(velocity, "f"):                                    # a rate network: r = f(x)
        import torch

        return velocity.f(torch.as_tensor(states)).numpy()
    return states[:, : int(subject.model.n_units)]                # GRU h, or the h of LSTM's [h, c]
