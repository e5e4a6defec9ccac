"""SBA2xx: dependency rules, one module per theme."""
