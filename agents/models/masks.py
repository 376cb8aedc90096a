"""Connectivity masks: hard structural constraints on an E/I network (Song, Yang & Wang 2016).

A mask holds 1 where a connection may exist (and is trained) and 0 where it may not. Units are
ordered excitatory first: units ``0 .. n_exc-1`` are excitatory, the rest inhibitory, as in
:class:`agents.EIRNN`. Every builder returns NumPy float32 arrays shaped like the weights they
constrain: ``mask_in`` (N, n_in), ``mask_rec`` (N, N) (post-synaptic rows, pre-synaptic columns),
``mask_out`` (n_out, N). Builders that make several return a dict of keyword arguments for
``EIRNN(**masks)``.

    masks = agents.masks.separate_choice_populations(100, n_in=3, n_out=2)   # Fig. 3C
    model = agents.EIRNN(3, 2, n_units=100, **masks)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def n_excitatory(n_units: int, excitatory_fraction: float = 0.8) -> int:
    """Number of excitatory units: the first ``round(fraction * N)`` units."""
    if not isinstance(n_units, (int, np.integer)) or isinstance(n_units, bool) or n_units < 1:
        raise ValueError(f"n_units must be a positive int, got {n_units!r}")
    if not 0.0 <= float(excitatory_fraction) <= 1.0:
        raise ValueError(f"excitatory_fraction must lie in [0, 1], got {excitatory_fraction!r}")
    return round(float(excitatory_fraction) * int(n_units))


def signs(n_units: int, excitatory_fraction: float = 0.8) -> np.ndarray:
    """(N,) +1 for excitatory units, -1 for inhibitory ones (the diag(ε) of Dale's law)."""
    out = -np.ones(n_units, dtype=np.float32)
    out[: n_excitatory(n_units, excitatory_fraction)] = 1.0
    return out


def no_self_connections(n_units: int) -> np.ndarray:
    """(N, N) all ones but the diagonal."""
    mask = np.ones((n_units, n_units), dtype=np.float32)
    np.fill_diagonal(mask, 0.0)
    return mask


def excitatory_readout(n_out: int, n_units: int, excitatory_fraction: float = 0.8) -> np.ndarray:
    """(n_out, N) ones on excitatory columns: long-range projections are excitatory."""
    mask = np.zeros((n_out, n_units), dtype=np.float32)
    mask[:, : n_excitatory(n_units, excitatory_fraction)] = 1.0
    return mask


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def random_sparse(n_units: int, excitatory_fraction: float = 0.8, p_exc: float = 0.1, p_inh: float = 0.5,
                  seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """(N, N) random connectivity: each connection from an E unit exists with probability ``p_exc``,
    from an I unit with ``p_inh`` (Fig. 7, parametric working memory: 0.1 / 0.5). No self-connections."""
    for name, p in (("p_exc", p_exc), ("p_inh", p_inh)):
        if not 0.0 < float(p) <= 1.0:
            raise ValueError(f"{name} must lie in (0, 1], got {p!r}")
    n_exc = n_excitatory(n_units, excitatory_fraction)
    prob = np.where(np.arange(n_units) < n_exc, float(p_exc), float(p_inh))[None, :]
    mask = (_rng(seed).random((n_units, n_units)) < prob).astype(np.float32)
    np.fill_diagonal(mask, 0.0)
    return mask


def separate_choice_populations(n_units: int, n_in: int, n_out: int = 2, excitatory_fraction: float = 0.8,
                                choice_inputs: Sequence[Sequence[int]] = ((0,), (1,))) -> dict[str, np.ndarray]:
    """Fig. 3C: two excitatory groups that do not excite each other.

    The excitatory units are split in two halves. Group k receives the input channels
    ``choice_inputs[k]`` (the evidence for choice k) and reads out to output k; there are no E->E
    connections between the groups. Inhibitory units connect to and from everyone; channels not
    named in ``choice_inputs`` (e.g. a start cue) reach every unit.
    """
    if n_out != 2 or len(choice_inputs) != 2:
        raise ValueError(f"separate_choice_populations needs n_out=2 and two choice_inputs, got n_out={n_out}, "
                         f"choice_inputs={choice_inputs!r}")
    n_exc = n_excitatory(n_units, excitatory_fraction)
    if n_exc < 2:
        raise ValueError(f"separate_choice_populations needs at least 2 excitatory units, got {n_exc}")
    group = np.full(n_units, -1)
    group[: n_exc // 2] = 0
    group[n_exc // 2 : n_exc] = 1
    mask_rec = no_self_connections(n_units)
    exc = group >= 0
    across = exc[:, None] & exc[None, :] & (group[:, None] != group[None, :])
    mask_rec[across] = 0.0
    mask_in = np.ones((n_units, n_in), dtype=np.float32)
    for k, channels in enumerate(choice_inputs):
        for c in channels:
            if not 0 <= c < n_in:
                raise ValueError(f"choice_inputs channel {c} out of range for n_in={n_in}")
            mask_in[:, c] = (group == k).astype(np.float32)
    mask_out = np.stack([(group == k).astype(np.float32) for k in range(2)])
    return {"mask_in": mask_in, "mask_rec": mask_rec, "mask_out": mask_out}


def two_areas(n_units: int, n_in: int, n_out: int, excitatory_fraction: float = 0.8, feedforward_prob: float = 1.0,
              feedback_prob: float = 0.2, seed: int | np.random.Generator | None = 0) -> dict[str, np.ndarray]:
    """Two "areas" (Fig. 5B): local inhibition, dense feed-forward and sparse feedback excitation.

    Each area holds half of the E units and half of the I units. Inside an area every connection
    may exist; inhibitory units project only inside their own area; E units of area 1 project to
    area 2 with probability ``feedforward_prob`` (1: dense) and E units of area 2 back to area 1 with
    ``feedback_prob`` (0.2). Inputs reach area 1; the readout comes from the E units of area 2.
    """
    for name, p in (("feedforward_prob", feedforward_prob), ("feedback_prob", feedback_prob)):
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {p!r}")
    n_exc = n_excitatory(n_units, excitatory_fraction)
    n_inh = n_units - n_exc
    area = np.empty(n_units, dtype=int)
    area[:n_exc] = np.arange(n_exc) >= n_exc // 2
    area[n_exc:] = np.arange(n_inh) >= n_inh // 2
    is_exc = np.arange(n_units) < n_exc
    post, pre = area[:, None], area[None, :]
    draws = _rng(seed).random((n_units, n_units))
    mask_rec = (post == pre).astype(np.float32)
    forward = (pre == 0) & (post == 1) & is_exc[None, :]
    backward = (pre == 1) & (post == 0) & is_exc[None, :]
    mask_rec[forward] = (draws[forward] < feedforward_prob)
    mask_rec[backward] = (draws[backward] < feedback_prob)
    np.fill_diagonal(mask_rec, 0.0)
    mask_in = np.repeat((area == 0).astype(np.float32)[:, None], n_in, axis=1)
    mask_out = np.repeat(((area == 1) & is_exc).astype(np.float32)[None, :], n_out, axis=0)
    return {"mask_in": mask_in, "mask_rec": mask_rec, "mask_out": mask_out}


def input_groups(n_units: int, n_in: int, groups: Mapping[str, Sequence[int]], fraction_per_group: float = 1 / 3,
                 excitatory_fraction: float = 0.8) -> np.ndarray:
    """(N, n_in) mask sending each group of input channels to its own fraction of the units.

    Multisensory integration (Fig. 6): visual channels reach one third of the units, auditory
    ones another third, the last third no sensory input. Each group takes the same share of
    excitatory and of inhibitory units (consecutive blocks in each population). Channels in no
    group reach every unit.
    """
    if not 0.0 < float(fraction_per_group) * len(groups) <= 1.0 + 1e-9:
        raise ValueError(f"fraction_per_group x number of groups must lie in (0, 1], got {fraction_per_group!r} x "
                         f"{len(groups)}")
    n_exc = n_excitatory(n_units, excitatory_fraction)
    mask = np.ones((n_units, n_in), dtype=np.float32)
    for k, channels in enumerate(groups.values()):
        members = np.zeros(n_units, dtype=bool)
        for start, size in ((0, n_exc), (n_exc, n_units - n_exc)):
            share = round(size * float(fraction_per_group))
            members[start + k * share : start + (k + 1) * share] = True
        for c in channels:
            if not 0 <= int(c) < n_in:
                raise ValueError(f"input_groups channel {c} out of range for n_in={n_in}")
            mask[:, int(c)] = members
    return mask


def from_suggested_network(suggested: Mapping[str, Any], n_units: int, input_names: Sequence[str], n_out: int,
                           excitatory_fraction: float = 0.8, seed: int = 0) -> dict[str, np.ndarray]:
    """The masks a task's ``suggested_network`` asks for, as ``EIRNN`` keyword arguments.

    Understood keys: ``input_groups`` (name -> channel names) with ``input_fraction_per_group``,
    and ``connection_prob`` ({"E": p_exc, "I": p_inh}). Others are ignored here.
    """
    out: dict[str, np.ndarray] = {}
    if "input_groups" in suggested:
        names = list(input_names)
        try:
            groups = {g: [names.index(c) for c in chans] for g, chans in suggested["input_groups"].items()}
        except ValueError as err:
            raise ValueError(f"suggested_network input_groups names an unknown input channel: {err}") from None
        out["mask_in"] = input_groups(n_units, len(names), groups,
                                      float(suggested.get("input_fraction_per_group", 1 / 3)), excitatory_fraction)
    if "connection_prob" in suggested:
        prob = suggested["connection_prob"]
        out["mask_rec"] = random_sparse(n_units, excitatory_fraction, float(prob["E"]), float(prob["I"]), seed)
    return out
