"""The sans-I/O ArTP/1.0 core: bytes in, events and bytes out; no sockets, no loop, no clock."""
