"""Read models: the API's status, the notebooks' data path and per-arm tables."""
