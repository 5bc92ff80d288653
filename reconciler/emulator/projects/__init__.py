"""The deprecated Projects API (``/projects``): store, team, seed and routes."""
