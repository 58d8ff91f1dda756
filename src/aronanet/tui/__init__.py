"""AronaNET tui."""
