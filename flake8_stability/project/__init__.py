"""The project model: layout, the files that belong to the project, and how they are read."""
