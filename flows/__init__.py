"""Prefect flows, one per step of the loop; each task wraps one service call (no business logic here)."""
