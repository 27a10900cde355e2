"""The catalogue: projects, assets and their provenance, items and their import."""
