"""Declared and installed dependencies of the project, and the shipped stack knowledge."""
