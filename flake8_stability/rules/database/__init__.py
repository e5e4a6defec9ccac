"""SBA3xx: database and async rules, one module per theme."""
