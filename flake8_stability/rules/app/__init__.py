"""SBA4xx: app entrypoint, routers, middleware and lifecycle rules, one module per theme."""
