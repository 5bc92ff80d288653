"""Suite-wide fixtures: the hermetic guard (no test reads a file another machine lacks)."""

pytest_plugins = ["hermetic", "pytester"]
