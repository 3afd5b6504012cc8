"""The capacity planner: GPU memory for serving or fine-tuning a causal LM (`memory`), and GPUs,
speed and monthly cost against a hosted API (`planner`). `python -m core gpu` prints `planner.plan`."""
