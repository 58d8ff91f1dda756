"""How a message's attachment reads in the log: the one seam the image work replaces.

``describe_attachment`` is the single function the message log calls for an attachment; the
inline-image widget (``widgets/inline_image.py``) may render pixels instead, but this text
form stays the fallback for terminals without graphics.
"""

from __future__ import annotations

from aronanet.proto.messages import Attachment


def human_size(size: int) -> str:
    """``70000`` -> ``68.4 KiB``: binary units, one decimal above bytes."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MiB"


def describe_attachment(attachment: Attachment) -> str:
    """``[image arona.png 640x480 68.4 KiB]``"""
    return (
        f"[image {attachment.name} {attachment.width}x{attachment.height} "
        f"{human_size(attachment.size)}]"
    )
