"""Meilisearch side: documents, ids and the writer."""
