"""AronaNET tui/widgets."""
