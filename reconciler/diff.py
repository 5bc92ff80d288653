"""diff (placeholder until its issue lands)."""
