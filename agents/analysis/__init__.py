"""Analyses of trained networks, on plain arrays and per-trial tables so they serve every agent.

Psychometric and chronometric functions (``psychometric``), choice selectivity d′ (``selectivity``),
condition averages and alignment (``trial_average``), PCA and targeted dimensionality reduction
(``state_space``), fixed and slow points (``fixed_points``), lesions and input-noise robustness
(``lesions``). Only ``fixed_points`` and ``lesions`` need torch.
"""
