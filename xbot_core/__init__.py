"""xbot workspace core package."""
