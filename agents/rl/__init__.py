"""Reinforcement learning on the tasks with stable-baselines3 and sb3-contrib (PPO, RecurrentPPO).

``agents.rl.vec_env.TaskVecEnv`` lets SB3 step the native vector env. Nothing is imported here, so
importing the package costs nothing until a module of it is used.
"""
