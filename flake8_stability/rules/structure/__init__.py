"""SBA6xx: structure rules (package layout, import cycles, model wiring), one module per theme."""
