"""Train the paper's perceptual-decision network with the fast preset (Adam), then look at its choices.

    .venv/bin/python examples/train_fast_preset.py            # ~15-60 s on 2 CPU cores

Same as `neurotasks train PerceptualDecision-v0`.
"""

import numpy as np

import agents

run = agents.train("PerceptualDecision-v0", preset="fast", out="runs/example-fast")
print(run.metrics["criterion"], "met:", run.metrics["criterion_met"], "after", run.metrics["trials_to_criterion"],
      "trials")

# The trained network on fresh trials: percent choice 1 at each signed coherence.
task, model = run.task(), run.model()
batch = task.trials(2000, rng=1, catch=False)
outputs, rates = agents.simulate(model, batch, seed=1)
behaviour = task.evaluate(batch, outputs=outputs)
signed = np.where(batch.params["ground_truth"] == 0, 1, -1) * batch.params["coherence"]
for c in np.unique(signed):
    chose_1 = behaviour["choice"][signed == c] == 0
    print(f"coherence {c:+6.1f} %: choice 1 on {100 * chose_1.mean():5.1f} % of trials")
