"""Source-vs-index reconciliation: by key ranges and content hashes, not just counts."""
