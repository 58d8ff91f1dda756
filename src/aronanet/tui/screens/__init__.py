"""AronaNET tui/screens."""
