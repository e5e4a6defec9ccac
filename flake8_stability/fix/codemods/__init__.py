"""One module per codemod theme; each `Codemod` subclass registers itself by name."""
