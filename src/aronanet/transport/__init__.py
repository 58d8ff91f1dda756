"""AronaNET transport."""
