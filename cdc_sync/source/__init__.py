"""Source databases: connection, capture (triggers, timestamps) and the relay."""
