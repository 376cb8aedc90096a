"""Network models: the excitatory/inhibitory rate RNN of Song, Yang & Wang (2016), its connectivity masks,
its initialisation and the fused recurrence that makes it fast to train."""
