"""AronaNET client."""
