"""Stdlib-only scripts run with the project's interpreter (any Python >= 3.8)."""
