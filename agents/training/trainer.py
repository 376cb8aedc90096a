"""Train a network of the model zoo on a task by BPTT, to the task's criterion, in a resumable run folder.

    run = agents.train("PerceptualDecision-v0")             # fast preset, the paper's E/I network
    run = agents.train(task, preset="pycog", out="runs/rdm", max_minutes=20)
    run = agents.train("ContextDecision-v0", model="lowrank", model_args={"rank": 2})
    model = run.model()

Any model of :mod:`agents.models.registry` trains here (``eirnn``, ``rnn``, ``lowrank``, ``gru``, ``lstm``);
the update takes the fastest path the model offers (:class:`UpdateStep`): the E/I network's fused BPTT with
Dale's chain rule, the fused BPTT of the other rate networks (``run_traced`` / ``backward_traced``), or
autograd (the gated networks, on PyTorch's fused kernels).

Every update draws fresh trials from ``task.trials``; every ``validation_every`` trials the noisy
network is scored on the task's condition grid (``task.grid_trials``), a row goes to history.csv
and a checkpoint (model, optimizer, RNG states, history) is written, atomically, as one
safetensors file (:mod:`agents.checkpoint`; nothing is ever unpickled). Training stops when
``task.criterion.met`` holds for the validation history, or at ``max_trials`` / ``max_minutes``.
Starting the same command again on the same folder resumes from the last checkpoint, exactly: the
checkpoint written at the validation that met the criterion records that stop, so a run killed
while it finishes (final model, metrics, figures) finishes with that model and trains no further.
The saved model is the one that met the criterion, else the best one seen. The folder is locked
(:mod:`agents.run_lock`) while a process writes it.
"""

from __future__ import annotations

import copy
import datetime as _dt
import inspect
import json
import math
import os
import platform
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

import neurotasks
from agents import checkpoint as checkpoint_file
from agents import runs
from agents.atomic import json_safe
from agents.models import masks as masks_lib
from agents.models import registry
from agents.models.dynamics import Buffers, OmegaTerm, backward_pass
from agents.models.eirnn import EIRNN
from agents.training.loss import masked_mse, rate_penalty, weight_penalty
from agents.training.presets import DEFAULT_PRESET, DENSE_RECURRENT, TrainerSettings
from agents.training.presets import preset as get_preset
from neurotasks.criterion import Criterion
from neurotasks.task import Task

#: suggested_network keys passed on to a model that takes an argument of that name (the E/I masks aside).
MODEL_KEYS = ("n_units", "excitatory_fraction", "tau", "sigma_rec", "nonlinearity", "rho", "readout")
#: Gradient norms above this count as divergence (pycog's safeguard).
MAX_GRAD_NORM = 1e10
#: 1: checkpoint.pt (pickle, no longer read; `neurotasks convert` turns it into 2); 2: checkpoint.safetensors
CHECKPOINT_VERSION = 2
#: entries of a checkpoint's state and their types
CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "model": dict, "optimizer": dict, "generator": torch.Tensor, "val_generator": torch.Tensor,
    "train_rng": dict, "val_rng": dict, "updates": int, "trials": int, "wall_s": (int, float), "history": list,
    "best": (dict, type(None)), "reached": (dict, type(None)), "next_validation": int, "bad_total": int,
    "train_losses": list, "omegas": list, "stopped": (str, type(None)), "figures_updates": (int, type(None)),
}
#: the stop reason after which a run never trains again
CRITERION = runs.CRITERION


class TrainingDiverged(RuntimeError):
    """The network's gradients or outputs stayed non-finite (the run folder keeps its last checkpoint); a lower
    learning rate may help."""


# ---------------------------------------------------------------------- building blocks
def resolve_device(device: str | torch.device) -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"``; a clear error when CUDA is asked for but absent."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {str(device)!r} requested but CUDA is not available on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {str(device)!r}")
    return dev


def model_config(task: Task, n_units: int | None = None, seed: int = 0, *, name: str = registry.DEFAULT_MODEL,
                 **overrides: Any) -> dict[str, Any]:
    """The config of model ``name`` for ``task`` (``registry.build`` makes the network from it).

    The task's ``suggested_network`` gives every entry the model has an argument for: the size N for all (for
    rnn, gru and lstm of a sparse suggestion, the dense size with as many connections: :func:`dense_units`), τ and
    σ_rec for the rate networks (the task's time scales and noise), the E fraction for eirnn and lowrank, and
    for eirnn alone its connectivity masks and, for tasks with signed outputs, a trained bias (its rates and
    Dale readout weights are >= 0, so only a bias reaches negative outputs; the other models read out with
    signed weights). Then ``n_units`` and ``overrides``.
    """
    accepted = registry.arguments(name)
    suggested = dict(task.suggested_network)
    config: dict[str, Any] = {registry.NAME_KEY: name, "n_in": len(task.input_names), "n_out": len(task.output_names)}
    if "seed" in accepted:
        config["seed"] = int(seed)
    config.update({k: suggested[k] for k in MODEL_KEYS if k in suggested and k in accepted})
    if name in DENSE_RECURRENT and "n_units" in config and "connection_prob" in suggested:
        config["n_units"] = dense_units(config["n_units"], suggested)
    if n_units is not None:
        config["n_units"] = int(n_units)
    is_eirnn = name == "eirnn"
    if is_eirnn and float(task.output_range[0]) < 0:
        # rates and (Dale) readout weights are >= 0: signed outputs (eye or hand position) need a trained
        # output bias to reach negative values, as pycog's sequence task trains b_out.
        config["train_bias"] = True
    config.update(overrides)
    if is_eirnn:
        n = int(config.get("n_units", 100))
        masks = masks_lib.from_suggested_network(suggested, n, task.input_names, config["n_out"],
                                                 config.get("excitatory_fraction", 0.8), seed=seed)
        for key, value in masks.items():
            config.setdefault(key, value)
    return config


def dense_units(n_units: int, suggested: Mapping[str, Any]) -> int:
    """The size of a dense network with as many recurrent connections as the task's sparse E/I network.

    A task's ``suggested_network`` is the paper's E/I network; when it is sparse (``connection_prob``, e.g.
    ParametricWorkingMemory-v0: 500 units, connections from E units with probability 0.1, from I units 0.5,
    Song et al. 2016 Fig. 7), a model whose recurrent matrix is dense (``rnn``, ``gru``, ``lstm``) gets
    M = round(N √d) units, d = f_E p_E + (1 - f_E) p_I the expected density, so M² ≈ d N²: the same number
    of unit-to-unit connections (212 units for that task) rather than 500² dense ones, which made a 500-unit
    ``rnn`` update cost about 5× the E/I network's and train past any sensible budget.
    """
    prob = suggested["connection_prob"]
    f_exc = float(suggested.get("excitatory_fraction", 0.8))
    density = f_exc * float(prob["E"]) + (1.0 - f_exc) * float(prob["I"])
    return max(1, round(int(n_units) * math.sqrt(density)))


def gradient_path(model: torch.nn.Module) -> str:
    """How :class:`UpdateStep` makes ``model``'s gradients: ``"eirnn"`` (the E/I network's fused BPTT and the chain
    rule through Dale's reparametrisation, written out here), ``"traced"`` (a rate network's own fused BPTT:
    ``run_traced`` / ``backward_traced``, e.g. rnn and lowrank) or ``"autograd"`` (any other model: gru, lstm)."""
    if isinstance(model, EIRNN):
        return "eirnn"
    if callable(getattr(model, "run_traced", None)) and callable(getattr(model, "backward_traced", None)):
        return "traced"
    return "autograd"


def takes_omega(model_class: type) -> bool:
    """Whether a model's forward pass can report pycog's vanishing-gradient regulariser Ω (the leaky rate
    recurrence of eirnn, rnn and lowrank; not the gated networks)."""
    return "omega" in inspect.signature(model_class.forward).parameters


def threads_for(n_units: int, batch_size: int) -> int:
    """Intra-op threads: small products run fastest on one thread (no hand-off cost), large ones on two."""
    cores = os.cpu_count() or 1
    return 1 if n_units * n_units * batch_size < 500 * 500 * 8 else min(2, cores)


class UpdateStep:
    """One gradient update: forward, masked MSE (+ penalties), backward with Ω, clip, skip-or-step.

    Without penalties (the presets) the update of a rate network runs outside autograd: the fused
    forward and backward passes (:mod:`agents.models.dynamics`) on buffers kept from one update to
    the next, the loss gradient written out, every gradient in one flat buffer, the gradient norm and
    clipping as one op each and plain SGD as one ``_foreach`` op. For the E/I network the chain rule
    through Dale's reparametrisation is written out here (``path == "eirnn"``); rnn and lowrank bring
    their own (``backward_traced``, ``path == "traced"``). Recording and replaying the small autograd
    graph around the fused node, ``zero_grad``, ``clip_grad_norm_`` and ``optimizer.step`` otherwise
    cost about as much as the update's matrix products. With penalties, and always for the gated
    networks (``path == "autograd"``: PyTorch's fused GRU/LSTM kernels, no recurrent noise, no Ω, whose
    history column is then NaN), it is plain autograd.
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, settings: TrainerSettings,
                 generator: torch.Generator | None = None) -> None:
        self.model, self.optimizer, self.settings, self.generator = model, optimizer, settings, generator
        self.params = [p for p in model.parameters() if p.requires_grad]
        #: "eirnn", "traced" or "autograd" (see :func:`gradient_path`)
        self.path = gradient_path(model)
        self.takes_omega = takes_omega(type(model))
        self.bad_in_row = 0
        self.bad_total = 0
        self.buffers = Buffers()
        self._flat: torch.Tensor | None = None
        self._views: dict[int, torch.Tensor] = {}
        #: run the update outside autograd when the objective allows it (False: always autograd, for comparison)
        self.by_hand = True
        #: the state (B, N) where the last update's trials ended (kept with ``settings.carry_state`` only)
        self.final_state: torch.Tensor | None = None

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, dt: float,
                 valid: torch.Tensor | None = None, noise_workspace: torch.Tensor | None = None) -> dict[str, float]:
        s = self.settings
        omega = OmegaTerm(s.lambda_omega) if s.lambda_omega > 0 and self.takes_omega else None
        flat = None
        if self.path == "autograd" or not self.by_hand or s.l1_weights or s.l2_weights or s.l2_rates:
            if s.carry_state:
                raise ValueError(CARRY_NEEDS_BPTT)
            loss_value = self._gradients_by_autograd(inputs, targets, mask, dt, valid, noise_workspace, omega)
        elif self.path == "eirnn":
            loss_value, flat = self._gradients_by_hand(inputs, targets, mask, dt, noise_workspace, omega)
        else:
            loss_value, flat = self._gradients_traced(inputs, targets, mask, dt, noise_workspace, omega)
        params = [p for p in self.params if p.grad is not None]
        grads = [p.grad for p in params]
        if flat is not None:                                            # every gradient is a view of one buffer
            norm = float(torch.linalg.vector_norm(flat))
        else:
            norm = float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))) if grads else 0.0
        ok = math.isfinite(norm) and norm <= MAX_GRAD_NORM and math.isfinite(loss_value)
        if ok:
            if s.grad_clip > 0:
                coef = s.grad_clip / (norm + 1e-6)                      # as torch.nn.utils.clip_grad_norm_
                if coef < 1.0:
                    if flat is not None:
                        flat.mul_(coef)
                    else:
                        torch._foreach_mul_(grads, coef)
            self._optimizer_step(params, grads)
            self.bad_in_row = 0
        else:
            self._skip_and_shrink(norm, loss_value)
        return {"loss": loss_value, "omega": omega.value if omega is not None else float("nan"), "grad_norm": norm,
                "ok": ok}

    def _gradients_by_autograd(self, inputs, targets, mask, dt, valid, noise_workspace, omega) -> float:
        s = self.settings
        if self.takes_omega:
            outputs, rates = self.model(inputs, dt, noise=True, generator=self.generator, omega=omega,
                                        noise_workspace=noise_workspace)
        else:                                           # a gated network: no recurrent noise, no Ω
            outputs, rates = self.model(inputs, dt, noise=True, generator=self.generator)
        loss = masked_mse(outputs, targets, mask)
        total = loss
        for extra in (weight_penalty(self.model, s.l1_weights, s.l2_weights), rate_penalty(rates, s.l2_rates, valid)):
            if extra is not None:
                total = total + extra
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        return float(loss.detach())

    def _gradient_buffer(self) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """One flat buffer holding every trained parameter's gradient (as views), so that the norm and the
        clipping are one op each."""
        params = self.params
        if self._flat is None or self._flat.device != params[0].device or self._flat.dtype != params[0].dtype:
            self._flat = torch.empty(sum(p.numel() for p in params), dtype=params[0].dtype, device=params[0].device)
            views = self._flat.split([p.numel() for p in params])
            self._views = {id(p): v.view(p.shape) for p, v in zip(params, views, strict=True)}
        return self._flat, self._views

    @torch.no_grad()
    def _gradients_by_hand(self, inputs, targets, mask, dt, noise_workspace, omega
                           ) -> tuple[float, torch.Tensor | None]:
        """Sets every trained parameter's ``.grad`` (not clipped) to a view of one flat buffer; returns the
        masked MSE and that buffer."""
        model = self.model
        outputs, _, trace = model.run_traced(inputs, dt, noise=True, generator=self.generator,
                                             noise_workspace=noise_workspace, buffers=self.buffers,
                                             check_finite=False)
        if self.settings.carry_state:                                   # before BPTT reuses the state buffer
            self.final_state = trace.states[-1].clone()
        loss, grad_outputs = self._loss_gradient(outputs, targets, mask, inputs)
        needs = (False, model.w_in.requires_grad, model.b_rec.requires_grad, model.w_rec.requires_grad,
                 model.x0.requires_grad, model.w_out.requires_grad, model.b_out.requires_grad)
        _, g_in, g_b_rec, g_rec, g_x0, g_out, g_b_out = backward_pass(trace, grad_outputs, None, omega, needs)
        if not self.params:
            return loss, None
        flat, views = self._gradient_buffer()
        matrices = (model.w_in, model.w_rec, model.w_out)
        if all(w.requires_grad for w in matrices):
            model.plastic_gradients(g_in, g_rec, g_out, effective=(trace.w_in, trace.w_rec, trace.w_out),
                                    out=tuple(views[id(w)] for w in matrices))
        else:
            g_in, g_rec, g_out = model.plastic_gradients(
                *(g if g is not None else torch.zeros_like(w) for g, w in ((g_in, trace.w_in), (g_rec, trace.w_rec),
                                                                           (g_out, trace.w_out))),
                effective=(trace.w_in, trace.w_rec, trace.w_out))
            for w, g in zip(matrices, (g_in, g_rec, g_out), strict=True):
                if w.requires_grad:
                    views[id(w)].copy_(g)
        for param, grad in ((model.b_rec, g_b_rec), (model.x0, g_x0), (model.b_out, g_b_out)):
            if param.requires_grad:
                views[id(param)].copy_(grad)
        for param in self.params:
            param.grad = views[id(param)]
        return loss, flat

    def _loss_gradient(self, outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, inputs: torch.Tensor
                       ) -> tuple[float, torch.Tensor]:
        """The masked MSE of time-major ``outputs`` and its gradient ∂L/∂outputs (time-major, in the error's
        buffer)."""
        mask_t = mask.transpose(0, 1).to(outputs.dtype)                   # time-major, as the outputs
        denominator = max(float(mask_t.sum()), 1.0)
        error = outputs - targets.transpose(0, 1).to(outputs.dtype)
        weighted = error * mask_t
        loss = float((weighted * error).sum()) / denominator
        if not math.isfinite(loss):
            self.model.check_finite(inputs)                             # NaN or Inf inputs reach every output
        return loss, weighted.mul_(2.0 / denominator)                     # ∂ masked_mse / ∂ outputs

    @torch.no_grad()
    def _gradients_traced(self, inputs, targets, mask, dt, noise_workspace, omega
                          ) -> tuple[float, torch.Tensor | None]:
        """A rate network's own fused BPTT (``run_traced`` / ``backward_traced``, its chain rule included), every
        trained parameter's ``.grad`` a view of one flat buffer; returns the masked MSE and that buffer."""
        model = self.model
        outputs, _, trace = model.run_traced(inputs, dt, noise=True, generator=self.generator,
                                             noise_workspace=noise_workspace, buffers=self.buffers,
                                             check_finite=False)
        if self.settings.carry_state:                                   # before BPTT reuses the state buffer
            self.final_state = trace.states[-1].clone()
        loss, grad_outputs = self._loss_gradient(outputs, targets, mask, inputs)
        grads = model.backward_traced(trace, grad_outputs, None, omega)
        if not self.params:
            return loss, None
        flat, views = self._gradient_buffer()
        for name, param in model.named_parameters():
            if param.requires_grad:
                view = views[id(param)]
                view.copy_(grads[name])
                param.grad = view
        return loss, flat

    def _optimizer_step(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        """Plain SGD (no momentum, decay, ...) as one ``_foreach`` op; any other optimizer steps itself."""
        opt = self.optimizer
        if type(opt) is torch.optim.SGD and len(opt.param_groups) == 1 and not opt._optimizer_step_pre_hooks \
                and not opt._optimizer_step_post_hooks:
            group = opt.param_groups[0]
            if (group["momentum"] == 0 and group["weight_decay"] == 0 and not group["maximize"]
                    and not isinstance(group["lr"], torch.Tensor)):
                with torch.no_grad():
                    torch._foreach_add_(params, grads, alpha=-group["lr"])
                return
        opt.step()

    def _skip_and_shrink(self, norm: float, loss: float) -> None:
        """pycog's safeguard: no update, recurrent weights shrunk slightly (by the model's ``shrink_recurrent`` where
        it has one: the effective W_rec of lowrank, W_hh of the gated networks); here the learning rate is halved
        too."""
        self.bad_in_row += 1
        self.bad_total += 1
        for group in self.optimizer.param_groups:
            lr = group["lr"]
            group["lr"] = lr * self.settings.lr_shrink
        factor = 1.0 - 0.02 * lr
        shrink = getattr(self.model, "shrink_recurrent", None)
        if callable(shrink):
            shrink(factor)
        elif isinstance(getattr(self.model, "w_rec", None), torch.Tensor):
            with torch.no_grad():
                self.model.w_rec.mul_(factor)
        if self.bad_in_row >= self.settings.max_bad_updates:
            raise TrainingDiverged(f"training diverged: {self.bad_in_row} consecutive updates with a non-finite or "
                                   f"huge gradient (norm {norm}, loss {loss}) despite shrinking the learning rate to "
                                   f"{self.optimizer.param_groups[0]['lr']:.3g}; try a lower learning_rate")


def _same_but_learning_rate(mine: Any, theirs: Any) -> bool:
    """Whether two trainer settings (config dicts) agree in everything but the learning rate."""
    if not isinstance(mine, dict) or not isinstance(theirs, dict):
        return False
    return ({k: v for k, v in mine.items() if k != "learning_rate"}
            == {k: v for k, v in theirs.items() if k != "learning_rate"})


def make_optimizer(model: torch.nn.Module, settings: TrainerSettings) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if settings.optimizer == "sgd":
        return torch.optim.SGD(params, lr=settings.learning_rate)
    # fused: one kernel for all parameters (~2.5x faster than foreach on the paper's network; the same algorithm)
    return torch.optim.Adam(params, lr=settings.learning_rate, betas=tuple(settings.adam_betas), fused=True)


def versions() -> dict[str, str]:
    import gymnasium

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "gymnasium": gymnasium.__version__, "neurotasks": neurotasks.__version__}


def _criterion_dict(c: Criterion) -> dict[str, Any]:
    return {"metric": c.metric, "op": c.op, "threshold": float(c.threshold), "window": int(c.window)}


def _normalise(data: Any) -> Any:
    return json.loads(json.dumps(json_safe(data)))


def seed_int(seed: int, stream: int, *more: int) -> int:
    """A 32-bit seed for stream ``stream`` of a run seeded ``seed`` (training trials 1, validation trials 2,
    noise 3 and 4, the final validation 5 and 6; RL runs use the same streams and 7 for their envs)."""
    return int(np.random.SeedSequence([int(seed), stream, *more]).generate_state(1)[0])


def validation_batch(task: Task, rng: np.random.Generator, n_trials: int):
    """What a run validates on: the condition grid, repeated to about ``n_trials`` trials (catch trials in the
    task's proportion), or ``n_trials`` plain trials for a task without a grid. Every agent validates so."""
    try:
        n_conditions = len(next(iter(task.conditions().values())))
    except NotImplementedError:
        return task.trials(n_trials, rng)
    return task.grid_trials(max(1, math.ceil(n_trials / n_conditions)), rng)


def legacy_checkpoint_message(run_path: Path) -> str:
    """What to do with a run folder whose checkpoint is the old pickle file."""
    return (f"{run_path / runs.LEGACY_CHECKPOINT} is a checkpoint in the old pickle format, which neurotasks no "
            "longer loads (unpickling a file can run arbitrary code); convert it with "
            f"`neurotasks convert {run_path}` (it reads the file with torch.load(weights_only=True), which cannot "
            "run code) and run this command again")


def check_checkpoint_state(state: Mapping[str, Any], path: Path, model_state: Mapping[str, torch.Tensor]) -> None:
    """CheckpointError naming ``path`` unless ``state`` has every entry, of the right type, and weights of the
    model's names and shapes, all finite."""
    def corrupt(why: str) -> checkpoint_file.CheckpointError:
        return checkpoint_file.CheckpointError(f"{path} is corrupt ({why})")

    checkpoint_file.check_state(state, path, CHECKPOINT_FIELDS, "model", model_state, "network")
    for key in ("generator", "val_generator"):
        if state[key].dtype != torch.uint8 or state[key].dim() != 1:
            raise corrupt(f"{key} is not a generator state")
    if any(not isinstance(row, dict) for row in state["history"]):
        raise corrupt("history rows are not JSON objects")


def final_verdict(criterion: Criterion, final_scores: Mapping[str, float], met_in_training: bool) -> dict[str, Any]:
    """The criterion met in training (over a window of validations) beside the final fresh validation's score
    against the same threshold, and a note when the two disagree."""
    value = final_scores.get(criterion.metric)
    meets = None
    if value is not None and math.isfinite(value):
        meets = Criterion(criterion.metric, criterion.op, criterion.threshold).met([value])
    note = None
    if meets is not None and meets != met_in_training:
        score = f"{criterion.metric} {value:.4g} (threshold {criterion.op} {criterion.threshold:g})"
        if met_in_training:
            note = (f"the criterion ({criterion}) was met in training, but the final validation on fresh trials "
                    f"does not meet its threshold: {score}")
        else:
            note = (f"the criterion ({criterion}) was not met in training, although the final validation on fresh "
                    f"trials meets its threshold: {score}")
    return {"criterion_met_in_training": bool(met_in_training), "final_validation_meets_criterion": meets,
            "final_validation_note": note}


class Prefetcher:
    """Draws the next batch of trials and its recurrent noise on a second thread while the current update runs.

    On 2 cores the update itself uses one (small products gain nothing from two), so trial generation
    and the noise (about half the cost of the update's matrix products) come for free. Items are made
    strictly in order by one worker, so training is exactly as reproducible as without prefetching;
    ``states()`` gives the RNG states *before* the next unconsumed item, which is what a checkpoint saves.
    """

    def __init__(self, task: Task, batch_size: int, rng: np.random.Generator, generator: torch.Generator,
                 model: torch.nn.Module) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.task, self.batch_size, self.rng, self.generator, self.model = task, batch_size, rng, generator, model
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neurotasks-prefetch")
        self.pending = self.pool.submit(self._make)

    def _make(self):
        states = (copy.deepcopy(self.rng.bit_generator.state), self.generator.get_state())
        batch = self.task.trials(self.batch_size, self.rng)
        workspace = self.model.draw_noise(len(batch), batch.n_steps, self.generator) if self.model.sigma_rec > 0 \
            else None
        return states, batch, workspace

    def next(self):
        """(batch, noise workspace) for the next update."""
        _, batch, workspace = self.pending.result()
        self.pending = self.pool.submit(self._make)
        return batch, workspace

    def states(self) -> tuple[dict, torch.Tensor]:
        """(numpy rng state, torch generator state) as they were before the next unconsumed item."""
        return self.pending.result()[0]

    def close(self) -> None:
        """Stop, leaving the RNGs where ``states()`` says."""
        states = self.states()
        self.pool.shutdown(wait=True)
        self.rng.bit_generator.state = states[0]
        self.generator.set_state(states[1])


# ---------------------------------------------------------------------- the trainer
class Trainer:
    """Owns a run folder and the training state; ``run()`` trains until a stop condition."""

    def __init__(self, task: Task, out: Path, settings: TrainerSettings, preset_name: str, seed: int,
                 model_cfg: dict[str, Any], criterion: Criterion, device: torch.device, quiet: bool,
                 progress: bool | None, tensorboard: bool, resume_learning_rate: float | None = None) -> None:
        self.task, self.out, self.settings, self.seed = task, out, settings, int(seed)
        self.criterion, self.device, self.quiet, self.tensorboard = criterion, device, quiet, tensorboard
        is_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
        self.show_bar = (not quiet and sys.stderr.isatty() and not is_ci) if progress is None else bool(progress)
        self.model = registry.build(model_cfg).to(device)
        self.config = _normalise({
            "task": {"id": task.id, "kwargs": dict(task.kwargs)},
            "model": registry.config_of(self.model),
            "trainer": settings.to_dict(),
            "preset": preset_name,
            "seed": self.seed,
            "criterion": _criterion_dict(criterion),
        })
        self.optimizer = make_optimizer(self.model, settings)
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed_int(seed, 3))
        self.val_generator = torch.Generator(device=device)
        self.val_generator.manual_seed(seed_int(seed, 4))
        self.train_rng = np.random.default_rng(seed_int(seed, 1))
        self.val_rng = np.random.default_rng(seed_int(seed, 2))
        self.step = UpdateStep(self.model, self.optimizer, settings, self.generator)
        self.updates = self.trials = 0
        self.wall_s = 0.0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.reached: dict[str, Any] | None = None
        #: "criterion" once the criterion is met (recorded in the checkpoint before finish() starts)
        self.stopped: str | None = None
        #: ``updates`` of the model whose figures were drawn last (None: never)
        self.figures_updates: int | None = None
        self.next_validation = 0
        #: a learning rate asked for explicitly: a resumed run continues at it from its next update
        self.resume_learning_rate = resume_learning_rate
        self._train_losses: list[float] = []
        self._prefetch: Prefetcher | None = None
        self._omegas: list[float] = []

    # ---------------------------------------------------------------- persistence
    def start_or_resume(self) -> bool:
        """Write config.json for a new run, or load the checkpoint of an earlier one. True if resumed."""
        config_path = self.out / runs.CONFIG
        if config_path.is_file():
            saved = runs.RunDir(self.out).config
            mine = {k: v for k, v in self.config.items()}
            theirs = {k: saved.get(k) for k in mine}
            theirs["model"] = runs.model_config_of(saved)          # a config without a name is an eirnn one
            new_rate = self.resume_learning_rate        # the one difference a resumed run takes
            if new_rate is not None and _same_but_learning_rate(mine.get("trainer"), theirs.get("trainer")):
                theirs["trainer"] = mine["trainer"]
            if theirs != mine:
                diff = sorted(k for k in mine if theirs.get(k) != mine[k])
                which = ""
                if theirs["model"].get(registry.NAME_KEY) != mine["model"][registry.NAME_KEY]:
                    which = (f": it holds a {theirs['model'].get(registry.NAME_KEY)!r} model, this run asks for "
                             f"{mine['model'][registry.NAME_KEY]!r}")
                raise ValueError(f"{self.out} holds a different run (differs in {', '.join(diff)}){which}; "
                                 "use another --out folder, or the same arguments to resume it")
            if (self.out / runs.CHECKPOINT).is_file():
                self._load_checkpoint()
                if new_rate is not None:
                    self._set_learning_rate(new_rate)
                return True
            if (self.out / runs.LEGACY_CHECKPOINT).exists():
                raise ValueError(legacy_checkpoint_message(self.out))
            return False
        self.out.mkdir(parents=True, exist_ok=True)
        runs.write_json_atomic(config_path, {**self.config, "device": str(self.device), "versions": versions(),
                                             "created": _dt.datetime.now().isoformat(timespec="seconds")})
        return False

    def _set_learning_rate(self, rate: float) -> None:
        """Continue a resumed run at ``rate`` from its next update (the history's ``lr`` column records it)."""
        before = float(self.optimizer.param_groups[0]["lr"])
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        if not self.quiet and before != rate:
            print(f"learning rate {before:g} -> {rate:g} from update {self.updates} ({self.trials} trials)")

    def _load_checkpoint(self) -> None:
        path = self.out / runs.CHECKPOINT
        ckpt = checkpoint_file.load(path, CHECKPOINT_VERSION, self.device)
        check_checkpoint_state(ckpt, path, self.model.state_dict())
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.generator.set_state(ckpt["generator"].cpu())
            self.val_generator.set_state(ckpt["val_generator"].cpu())
            self.train_rng.bit_generator.state = ckpt["train_rng"]
            self.val_rng.bit_generator.state = ckpt["val_rng"]
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
            raise checkpoint_file.CheckpointError(f"{path} is corrupt ({type(err).__name__}: {err})") from None
        self.updates, self.trials, self.wall_s = ckpt["updates"], ckpt["trials"], float(ckpt["wall_s"])
        self.history, self.best, self.reached = ckpt["history"], ckpt["best"], ckpt["reached"]
        self.next_validation = ckpt["next_validation"]
        self.step.bad_total = ckpt["bad_total"]
        self._train_losses, self._omegas = list(ckpt["train_losses"]), list(ckpt["omegas"])
        self.stopped, self.figures_updates = ckpt["stopped"], ckpt["figures_updates"]

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue exactly: tensors, numbers, lists, dicts and strings only."""
        if self._prefetch is not None:                  # the states before the batch not yet trained on
            train_rng, generator = self._prefetch.states()
        else:
            train_rng, generator = self.train_rng.bit_generator.state, self.generator.get_state()
        return {
            "model": dict(self.model.state_dict()), "optimizer": self.optimizer.state_dict(),
            "generator": generator, "val_generator": self.val_generator.get_state(),
            "train_rng": train_rng, "val_rng": self.val_rng.bit_generator.state,
            "updates": self.updates, "trials": self.trials, "wall_s": self.wall_s, "history": self.history,
            "best": self.best, "reached": self.reached, "next_validation": self.next_validation,
            "bad_total": self.step.bad_total, "train_losses": list(self._train_losses), "omegas": list(self._omegas),
            "stopped": self.stopped, "figures_updates": self.figures_updates,
        }

    def save_checkpoint(self) -> None:
        checkpoint_file.save(self.out / runs.CHECKPOINT, self.checkpoint_state(), CHECKPOINT_VERSION)
        runs.write_history_atomic(self.out / runs.HISTORY, self.history)

    def _save_weights(self, state: Mapping[str, torch.Tensor]) -> None:
        runs.save_weights(self.out / runs.WEIGHTS, dict(state))

    # ---------------------------------------------------------------- validation
    def validation_batch(self, rng: np.random.Generator):
        return validation_batch(self.task, rng, self.settings.validation_trials)

    @torch.no_grad()
    def score(self, model: torch.nn.Module, batch, generator: torch.Generator) -> dict[str, float]:
        """Validation loss and every metric of ``task.score`` for ``model`` on ``batch``."""
        model.eval()
        inputs = torch.from_numpy(batch.inputs).to(self.device)
        outputs, _ = model(inputs, float(batch.dt), noise=self.settings.validation_noise, generator=generator)
        model.train()
        loss = float(masked_mse(outputs, torch.from_numpy(batch.targets).to(self.device),
                                torch.from_numpy(batch.mask).to(self.device)))
        z = outputs.cpu().numpy()
        if not np.all(np.isfinite(z)):
            raise TrainingDiverged(f"training diverged: the network's outputs are not finite at update {self.updates}")
        scores = self.task.score(batch, self.task.evaluate(batch, outputs=z))
        return {"loss": loss, **{k: float(v) for k, v in scores.items()}}

    def validate(self, started: float) -> dict[str, Any]:
        scores = self.score(self.model, self.validation_batch(self.val_rng), self.val_generator)
        wall = self.wall_s + (time.perf_counter() - started)
        row = {"updates": self.updates, "trials": self.trials, "wall_s": round(wall, 3), **scores,
               "train_loss": float(np.mean(self._train_losses)) if self._train_losses else float("nan"),
               "omega": float(np.nanmean(self._omegas)) if self._omegas and not np.all(np.isnan(self._omegas))
               else float("nan"),
               "lr": float(self.optimizer.param_groups[0]["lr"])}
        self._train_losses.clear()
        self._omegas.clear()
        self.history.append(row)
        value = scores.get(self.criterion.metric, float("nan"))
        if runs.keeps_as_best(self.criterion, value, self.best):
            self.best = {"value": value, "updates": self.updates, "trials": self.trials, "wall_s": wall,
                         "state": {k: v.clone() for k, v in self.model.state_dict().items()}}
            self._save_weights(self.best["state"])
        metric_history = [r.get(self.criterion.metric, float("nan")) for r in self.history]
        if self.reached is None and self.criterion.met(metric_history):
            self.reached = {"updates": self.updates, "trials": self.trials, "wall_s": wall}
        return row

    # ---------------------------------------------------------------- the loop
    def run(self, max_trials: int | None, max_minutes: float | None) -> str:
        """Train until the criterion, a cap or divergence. Returns why it stopped."""
        from tqdm.auto import tqdm

        if self.reached is not None:                    # met before (finish() is what remains): never train on
            self.stopped = CRITERION
            return CRITERION
        s = self.settings
        started = time.perf_counter()
        deadline = started + 60.0 * max_minutes if max_minutes is not None else math.inf
        writer = self._tensorboard_writer()
        bar = tqdm(total=max_trials, initial=min(self.trials, max_trials or self.trials), unit="trial",
                   disable=not self.show_bar, dynamic_ncols=True, smoothing=0.1, unit_scale=True)
        self._deadline = deadline
        reason = CRITERION
        prefetch = self._prefetch = Prefetcher(self.task, s.batch_size, self.train_rng, self.generator, self.model)
        try:
            while True:
                if self.trials >= self.next_validation:
                    row = self.validate(started)
                    self.next_validation = self.trials + s.validation_every
                    self._report(row, bar, writer)
                    self.wall_s += time.perf_counter() - started
                    started = time.perf_counter()
                    if self.reached is not None:
                        self.stopped = CRITERION        # recorded with the kept (current) weights
                    self.save_checkpoint()
                    if self.reached is not None:
                        break
                if max_trials is not None and self.trials >= max_trials:
                    reason = "max_trials"
                    break
                if time.perf_counter() >= deadline:
                    reason = "max_minutes"
                    break
                batch, workspace = prefetch.next()
                stats = self.step(torch.from_numpy(batch.inputs).to(self.device),
                                  torch.from_numpy(batch.targets).to(self.device),
                                  torch.from_numpy(batch.mask).to(self.device), float(batch.dt),
                                  torch.from_numpy(batch.valid).to(self.device) if s.l2_rates else None,
                                  workspace)
                if s.carry_state:                       # the next trial starts where this one ended
                    with torch.no_grad():
                        self.model.x0.copy_(self.step.final_state[0])
                self.updates += 1
                self.trials += s.batch_size
                if stats["ok"]:
                    self._train_losses.append(stats["loss"])
                    self._omegas.append(stats["omega"])
                bar.update(s.batch_size)
                if self.updates % 25 == 0:
                    bar.set_postfix_str(self._postfix(stats["loss"]), refresh=False)
        finally:
            prefetch.close()
            self._prefetch = None
            bar.close()
            if writer is not None:
                writer.close()
        if reason != CRITERION:
            self.wall_s += time.perf_counter() - started
            self.save_checkpoint()
        return reason

    def _postfix(self, loss: float) -> str:
        perf = self.history[-1].get(self.criterion.metric, float("nan")) if self.history else float("nan")
        text = f"loss={loss:.4f} {self.criterion.metric}={perf:.3g}"
        left = getattr(self, "_deadline", math.inf) - time.perf_counter()
        if math.isfinite(left):                          # the time cap's countdown (tqdm gives the ETA of max_trials)
            text += f" cap in {int(left // 60)}:{int(left % 60):02d}"
        return text

    def _report(self, row: dict[str, Any], bar, writer) -> None:
        metric = self.criterion.metric
        line = (f"[{row['wall_s']:7.1f} s] {row['trials']:>8d} trials {row['updates']:>6d} updates  "
                f"val loss {row['loss']:.4f}  {metric} {row.get(metric, float('nan')):.4g}")
        if "percent_correct" in row and metric != "percent_correct":
            line += f"  percent_correct {row['percent_correct']:.4g}"
        bar.set_postfix_str(self._postfix(row["train_loss"]), refresh=True)
        if not self.quiet:
            (bar.write if self.show_bar else print)(line)
            sys.stdout.flush()
        if writer is not None:
            for key, value in row.items():
                if key not in ("updates", "trials") and isinstance(value, float) and math.isfinite(value):
                    writer.add_scalar(key, value, row["trials"])

    def _tensorboard_writer(self):
        if not self.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            if not self.quiet:
                print("TensorBoard logging skipped: torch.utils.tensorboard could not be imported "
                      "(pip install tensorboard)")
            return None
        return SummaryWriter(str(self.out / "tensorboard"))

    # ---------------------------------------------------------------- the end
    def finish(self, reason: str) -> dict[str, Any]:
        """Save the final model (pruned, for a model that can be: eirnn) and metrics.json; returns the metrics.

        ``final`` in the metrics is a validation of the final model on fresh trials (another seed than
        training's validations); ``final_validation_meets_criterion`` judges it by the criterion's threshold,
        and ``final_validation_note`` says so when it disagrees with ``criterion_met`` (met in training).
        Deterministic, so a run killed in here finishes the same when its command is run again.
        """
        if self.reached is not None:
            final_state = self.model.state_dict()
            which = "met criterion"
        elif self.best is not None:
            final_state = self.best["state"]
            which = "best"
        else:
            final_state = self.model.state_dict()
            which = "last"
        final = registry.build(self.config["model"]).to(self.device)
        final.load_state_dict(final_state)
        pruned = None                                  # None: the model has no pruning
        if hasattr(final, "prune"):
            pruned = final.prune(self.settings.prune_w_min) if self.settings.prune_w_min > 0 else 0
        self._save_weights(final.state_dict())
        generator = torch.Generator(device=self.device)
        generator.manual_seed(seed_int(self.seed, 6))
        final_scores = self.score(final, self.validation_batch(np.random.default_rng(seed_int(self.seed, 5))),
                                  generator)
        verdict = final_verdict(self.criterion, final_scores, self.reached is not None)
        metrics = {
            "task": self.task.id,
            "model": self.config["model"][registry.NAME_KEY],
            "preset": self.config["preset"],
            "criterion": str(self.criterion),
            "criterion_met": self.reached is not None,
            "criterion_met_in_training": verdict["criterion_met_in_training"],
            "final_validation_meets_criterion": verdict["final_validation_meets_criterion"],
            "final_validation_note": verdict["final_validation_note"],
            "stopped": reason,
            "trials_to_criterion": self.reached["trials"] if self.reached else None,
            "updates_to_criterion": self.reached["updates"] if self.reached else None,
            "wall_s_to_criterion": round(self.reached["wall_s"], 3) if self.reached else None,
            "updates": self.updates,
            "trials": self.trials,
            "wall_s": round(self.wall_s, 3),
            "final": final_scores,
            "final_model": which,
            "best": {k: v for k, v in self.best.items() if k != "state"} if self.best else None,
            "pruned_weights": pruned,
            "skipped_updates": self.step.bad_total,
        }
        runs.write_json_atomic(self.out / runs.METRICS, metrics)
        return metrics


# ---------------------------------------------------------------------- public entry point
def train(task: str | Task, *, model: str = registry.DEFAULT_MODEL, model_args: Mapping[str, Any] | None = None,
          preset: str = DEFAULT_PRESET, out: str | os.PathLike | None = None, seed: int = 0,
          max_minutes: float | None = None, max_trials: int | None = None, device: str = "cpu",
          n_units: int | None = None, settings: Mapping[str, Any] | None = None, criterion: Criterion | None = None,
          task_kwargs: Mapping[str, Any] | None = None, quiet: bool = False, progress: bool | None = None,
          tensorboard: bool = False, figures: bool = True, threads: int | None = None) -> runs.RunDir:
    """Train a network of the model zoo on ``task`` and return its run folder.

    Args:
        task: a task id (made with ``task_kwargs``) or a Task.
        model: the model's registry name: ``"eirnn"`` (default; the paper's E/I network), ``"rnn"``, ``"lowrank"``,
            ``"gru"``, ``"lstm"`` (:mod:`agents.models.registry`).
        model_args: the model's own arguments (``{"rank": 2}``), over what the task suggests
            (:func:`model_config`); ``n_in``, ``n_out`` and ``seed`` come from the task and the run.
        preset: "fast" (default), "pycog" or "continuous" (pycog's no-reset protocol: one trial per update from
            where the last ended, x0 not trained), with the model's own settings where the preset has them (no Ω for
            gru/lstm, Adam's learning rate 0.001 above 100 units for rnn/gru/lstm:
            :mod:`agents.training.presets`); ``settings`` overrides single TrainerSettings fields. A
            ``learning_rate`` there is the one setting an existing run may change: it resumes at that rate
            (a fine-tuning phase; the history's ``lr`` column records it, and the checkpoint keeps it).
        out: the run folder (default ``runs/<ID>-<YYYYmmdd-HHMMSS>``, ``runs/<ID>-<model>-<...>`` for a model other
            than eirnn); an existing one is resumed.
        seed: seeds the weights, the training trials and the noise.
        max_minutes, max_trials: caps (trials counted over the whole run, minutes per call).
        n_units: the network's size N (default: the task's suggested network); the same as
            ``model_args={"n_units": N}``, and giving both is an error.
        criterion: replace ``task.criterion`` (e.g. a lower bar for a quick test).
        quiet: no per-validation lines; progress: force the progress bar on/off.
        figures: draw the run's figures at the end (if agents.plots is available).
        threads: torch's intra-op threads while training (default :func:`threads_for` the network's size;
            a benchmark cell passes the CPUs Ray gave it).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    task = runs.task_of(task, task_kwargs)
    if not getattr(task, "supervised_target", True):
        raise ValueError(f"{task.id} has no supervised target (what it shows follows the agent's own actions): "
                         f"train an RL agent on it (--agent ppo, recurrent-ppo or ei-reinforce)")
    if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1):
        raise ValueError(f"max_trials must be a positive int, got {max_trials!r}")
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be > 0, got {max_minutes!r}")
    registry.model_class(model)                             # ValueError naming the known models
    args = registry.check_arguments(model, dict(model_args or {}))
    if n_units is not None and "n_units" in args:
        raise ValueError("the number of units is given twice (n_units and model_args['n_units'], i.e. --n-units and "
                         "--model-arg n_units=...): give it once")
    n_units = args.pop("n_units", n_units)
    dev = resolve_device(device)
    cfg = model_config(task, n_units=n_units, seed=seed, name=model, **args)
    units = cfg.get("n_units", registry.arguments(model).get("n_units"))
    base = get_preset(preset, model, units if isinstance(units, int) else None)
    overrides = dict(settings or {})
    suggested_batch = task.suggested_network.get("batch_size")
    if preset == "pycog" and suggested_batch and "batch_size" not in overrides:
        overrides["batch_size"] = int(suggested_batch)
    for key, value in getattr(task, "trainer_defaults", {}).items():   # a mixture validates less often, on more
        overrides.setdefault(key, value)
    trainer_settings = base.updated(**overrides)
    if trainer_settings.carry_state:
        cfg["train_x0"] = carried_initial_state(model, args)
    check_settings_apply(trainer_settings, model)
    if out is None:
        which = "" if model == registry.DEFAULT_MODEL else f"-{model}"
        out = Path("runs") / f"{task.id}{which}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    out = Path(out)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads if threads is not None
                          else threads_for(int(cfg.get("n_units", 100)), trainer_settings.batch_size))
    lock = None
    try:
        trainer = Trainer(task, out, trainer_settings, preset, seed, cfg, criterion or task.criterion, dev, quiet,
                          progress, tensorboard,
                          trainer_settings.learning_rate if "learning_rate" in (settings or {}) else None)
        lock = runs.open_for_writing(out)
        resumed = trainer.start_or_resume()
        runs.complete(out, trainer, lambda: trainer.run(max_trials, max_minutes),
                      f"resuming {out} from update {trainer.updates} ({trainer.trials} trials)", resumed=resumed,
                      write_figures=_write_run_figures, figures=figures, quiet=quiet)
    finally:
        if lock is not None:
            lock.release()
        torch.set_num_threads(previous_threads)
    return runs.RunDir(out)


CARRY_NEEDS_BPTT = ("carry_state (the continuous protocol) runs on the rate networks' own BPTT, which keeps the "
                    "final state: it takes no weight or rate penalties (l1_weights, l2_weights, l2_rates = 0)")


def check_settings_apply(settings: TrainerSettings, model: str) -> None:
    """ValueError naming the setting if ``settings`` ask ``model`` for what it does not have: Ω (lambda_omega > 0)
    of a model without the leaky rate recurrence, pruning (prune_w_min > 0) of a model without ``prune``, the
    continuous protocol (carry_state) with penalties."""
    cls = registry.model_class(model)
    if settings.carry_state and (settings.l1_weights or settings.l2_weights or settings.l2_rates):
        raise ValueError(CARRY_NEEDS_BPTT)
    if settings.lambda_omega > 0 and not takes_omega(cls):
        raise ValueError(f"lambda_omega={settings.lambda_omega:g}: the vanishing-gradient regulariser Ω is defined for "
                         f"the leaky rate networks (eirnn, rnn, lowrank), not for {model!r}; set it to 0")
    if settings.prune_w_min > 0 and not hasattr(cls, "prune"):
        raise ValueError(f"prune_w_min={settings.prune_w_min:g}: model {model!r} has no pruning (only eirnn has); "
                         "set it to 0")


def carried_initial_state(model: str, model_args: Mapping[str, Any]) -> bool:
    """``train_x0`` for the continuous protocol (False: the initial state is the last trial's end, not a
    parameter); ValueError if ``model`` has no initial state to carry or ``model_args`` ask to train it."""
    if "train_x0" not in registry.arguments(model):
        raise ValueError(f"carry_state (the continuous preset) carries the network's state x from one update to the "
                         f"next; model {model!r} has none: use eirnn, rnn or lowrank")
    if model_args.get("train_x0"):
        raise ValueError("train_x0=true contradicts carry_state (the continuous preset): the initial state is "
                         "where the last trial ended, not a trained parameter (pycog sets train_x0 False)")
    return False


def _write_run_figures(out: Path) -> None:
    from agents.plots.run_figures import write_run_figures

    write_run_figures(out)

