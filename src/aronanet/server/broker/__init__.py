"""AronaNET server/broker."""
