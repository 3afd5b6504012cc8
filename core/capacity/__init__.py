"""The capacity planner: GPU memory for serving or fine-tuning a causal LM (`memory`); GPUs, speed
and monthly cost (`planner`); how GPUs are linked and housed and the vLLM command (`serving`); the
hosted models of a model's class (`hosted`); and the verdict and options a person acts on
(`advice.plan`, which `python -m core gpu` prints and the Capacity page shows)."""
