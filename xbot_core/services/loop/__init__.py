"""The step internals behind services/steps.py: plan, generate, post, collect, learn."""
