"""Review-day documents as signed PDFs (issue 16): one registry of documents (name → template + context builder),
one rendering path (WeasyPrint from Jinja templates), and the audit-chain hash in every page's footer."""
