"""The Meilisearch adapter: client, document ids, index settings, validation."""
