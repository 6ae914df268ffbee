"""cdc-sync: keep Meilisearch indexes in step with database tables through Kafka."""

__version__ = "0.1.0"
