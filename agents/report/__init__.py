"""``neurotasks analyze``: a trained run turned into the figures and numbers of the papers it reproduces.

One file per analysis family (behaviour, selectivity, context_dependence, multisensory, working_memory,
sequence, fixed_points, robustness, unit_lesions, delayed_reach), :mod:`agents.report.registry` listing
them with the paper figure each corresponds to and the tasks it applies to by default,
:mod:`agents.report.subject` loading the run, :mod:`agents.report.writer` writing the report folder
(index.md, report.json, figures/), :mod:`agents.report.schema` the versioned JSON schema.

Submodules are imported by the command, not here, so ``import agents.report`` stays light.
"""
