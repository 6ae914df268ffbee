"""Change events: the one format every capture mode is turned into (SPEC §4)."""
