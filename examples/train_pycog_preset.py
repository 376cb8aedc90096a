"""Train the paper's perceptual-decision network with the paper's own protocol (pycog preset).

Plain SGD (learning rate 0.01), 20 trials per update, gradient norm clipped at 1, the
vanishing-gradient regulariser at lambda_Omega = 2 and validation every 10,000 trials, until the
mean percent correct of the last five validations exceeds 85 %.

    .venv/bin/python examples/train_pycog_preset.py           # several minutes on 2 CPU cores

Stop it at any time and run it again: it resumes from its last checkpoint.
"""

import agents

run = agents.train("PerceptualDecision-v0", preset="pycog", out="runs/example-pycog", max_minutes=30)
metrics = run.metrics
print(f"criterion ({metrics['criterion']}) met: {metrics['criterion_met']}")
if metrics["criterion_met"]:
    print(f"  after {metrics['trials_to_criterion']} trials, {metrics['updates_to_criterion']} updates, "
          f"{metrics['wall_s_to_criterion']:.0f} s")
print("final validation:", metrics["final"])
for row in run.history()[-3:]:
    print(f"  {row['trials']:>8} trials: percent correct {row['percent_correct']:.1f}")
