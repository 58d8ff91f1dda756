"""AronaNET server."""
