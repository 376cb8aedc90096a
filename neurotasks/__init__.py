"""neurotasks: cognitive-neuroscience tasks as fast, reproducible Gymnasium environments.

    import gymnasium as gym
    import neurotasks

    env = gym.make("PerceptualDecision-v0")          # one trial per episode
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(128, rng=0)                  # whole trials for supervised training
    batches = neurotasks.TrialSampler(task, 128, rng=0)   # endless fresh batches: batches()

Importing this package registers every task with Gymnasium, and does nothing else to the
process: in particular it leaves the C allocator's settings alone. A program that builds batch
after batch can call ``neurotasks.keep_freed_memory()`` once to have glibc keep freed memory
for reuse (see ``neurotasks.allocator``). It needs only NumPy and Gymnasium.
"""

from neurotasks.allocator import keep_freed_memory
from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.registry import list_tasks, make_task, register_all, task_arguments, task_class
from neurotasks.sampler import TrialSampler
from neurotasks.task import Task

__version__ = "0.1.0"
__all__ = ["Criterion", "Task", "TrialBatch", "TrialSampler", "keep_freed_memory", "list_tasks", "make_task",
           "task_arguments", "task_class"]

register_all()
