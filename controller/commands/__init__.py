"""The command queue's two ends: operator actions enqueue, the worker takes each command through
its life."""
