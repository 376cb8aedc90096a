"""Network models: the excitatory/inhibitory rate RNN of Song, Yang & Wang (2016), its connectivity masks,
its initialisation and the fused recurrence that makes it fast to train; and the model zoo that shares its
surface (:mod:`agents.models.interface`), by name in :mod:`agents.models.registry`:

- ``eirnn`` (:mod:`~agents.models.eirnn`): the E/I network, Dale's law by rectified reparametrisation.
- ``rnn`` (:mod:`~agents.models.rnn`): a leaky rate RNN without Dale's law, Yang et al. (2019)'s defaults.
- ``lowrank`` (:mod:`~agents.models.lowrank`): W_rec = m nᵀ / N of rank r, optionally with Dale's law.
- ``gru``, ``lstm`` (:mod:`~agents.models.gru`, :mod:`~agents.models.lstm`): PyTorch's fused kernels and a
  linear readout.

The continuous-time models (eirnn, rnn, lowrank) run the same fused recurrence and hand-written BPTT
(:mod:`~agents.models.dynamics`); rnn and lowrank share its wrapper in :mod:`~agents.models.base`.
"""
