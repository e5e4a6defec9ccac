"""SBA1xx: import rules, one module per theme."""
