"""AronaNET: a self-hosted, encrypted chat node and its clients, speaking ArTP/1.0."""

__version__ = "0.1.0"
PROTOCOL_VERSION = "1.0"
