"""Rating: routing, the rating pages and API, judgments and their rules, adaptive overlap,
adjudication, media reports, and the import of judgments made elsewhere."""
