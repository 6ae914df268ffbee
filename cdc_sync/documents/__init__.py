"""Row images and change events → Meilisearch documents (consumer, bootstrap, verify)."""
