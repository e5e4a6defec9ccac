"""SBA5xx: configuration and environment rules, one module per theme."""
