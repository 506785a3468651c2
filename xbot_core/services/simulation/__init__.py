"""Seeded simulated history (audience, bandit, plan), its writer, audiences fitted to real history."""
