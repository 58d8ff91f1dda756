"""AronaNET discovery."""
