"""Import rules: what fails when Python resolves the project's imports at boot."""
