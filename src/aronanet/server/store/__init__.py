"""AronaNET server/store."""
