"""apply (placeholder until its issue lands)."""
