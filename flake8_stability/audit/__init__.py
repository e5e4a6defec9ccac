"""stability-audit: the Audit Report of a whole backend, from the same engine and config as the
flake8 plugin."""
