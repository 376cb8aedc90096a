"""agents: models that learn neurotasks tasks, their training, and the analyses of trained networks.

Heavy modules (torch, matplotlib) load on first use, so ``neurotasks list`` stays light.
"""
