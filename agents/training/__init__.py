"""Supervised training of E/I RNNs by BPTT: loss, presets (pycog, fast) and the resumable trainer."""
