"""The consumer service: change events from Kafka applied to Meilisearch (SPEC §6)."""
