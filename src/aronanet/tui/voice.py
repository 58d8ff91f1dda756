"""Arona's voice: every system line the client shows, in one place.

Cheerful, short, and honest: whenever the node or the link reports an error, its real code
is part of the line, so the words never hide what happened.
"""

from __future__ import annotations

from aronanet.client.moderation_words import explain
from aronanet.errors import ClientError

HALO = "˚ ✧ ◯ ✧ ˚"


def connected(node: str, address: str) -> str:
    return f"Sensei, you are connected to {node} ({address})!"


def logged_in(user: str, *, first_time: bool = False) -> str:
    if first_time:
        return (
            f"Welcome, Sensei {user}! I'm Arona. /join #channel to start talking, "
            "/help whenever you need me."
        )
    return f"Welcome back, Sensei {user}! Type /help whenever you need me."


def signing_in(user: str, address: str) -> str:
    return f"Signing you in as {user} on {address} with this device, Sensei…"


def device_sign_in_failed(user: str, error: ClientError) -> str:
    """Why the login screen is back although this device signed in before (§14.3)."""
    return (
        f"Sensei, this device could not sign you in as {user} ({error.code}: {error.message}). "
        "Your password once more, please!"
    )


def topic_set(channel: str, topic: str) -> str:
    return f"You set the topic of {channel}: {topic}"


def joined(channel: str, members: int) -> str:
    people = "person" if members == 1 else "people"
    return f"Sensei, you are connected to {channel}! {members} {people} here."


def parted(channel: str) -> str:
    return f"You left {channel}, Sensei. I kept the door open."


def link_lost(reason: str, retry_in: float) -> str:
    return f"Sensei, the link dropped ({reason}). Trying again in {retry_in:.0f}s…"


def disconnected() -> str:
    return "Disconnected, Sensei: I'm reconnecting (/reconnect tries at once)."


def back_online() -> str:
    return "Reconnected, Sensei! I caught up on anything you missed."


def moved(address: str) -> str:
    """The node in use died or dropped the link; another of its community took over."""
    return f"Moved to {address}, Sensei — nothing was lost."


def reconnected(missed: int) -> str:
    if missed:
        return f"We're back, Sensei! I caught up on {missed} message(s) you missed."
    return "We're back, Sensei! Nothing was missed."


def failure(action: str, error: BaseException) -> str:
    """An error line that always carries the real code (``CODE: message``)."""
    if isinstance(error, ClientError):
        meaning = explain(error.code)
        if meaning is not None:  # §14.16-14.21: say what the refusal means, code kept
            return f"Sorry Sensei, {action} failed: {meaning} — {error.code}: {error.message}"
        return f"Sorry Sensei, {action} failed — {error.code}: {error.message}"
    return f"Sorry Sensei, {action} failed — {type(error).__name__}: {error}"


#: How the buffer keys read in Arona's lines (the bindings are ``chat_input``'s; Ctrl+P is
#: Textual's command palette, so it is never the previous buffer).
SWITCH_KEYS = "Alt+1..9, Ctrl+N / Ctrl+B"


def no_channel_here(command: str) -> str:
    return f"Sensei, /{command} works in a channel; switch to one first ({SWITCH_KEYS})."


def lines_pasted(count: int) -> str:
    return (
        f"Sensei, you pasted {count} lines: ↵ marks each line break, and Enter sends them "
        "together as one message."
    )


def offline_queued() -> str:
    return "Sensei, we're offline: I'll send it as soon as the link is back."


def scrollback_start(name: str) -> str:
    return f"That's the very beginning of {name}, Sensei."


def outbox_restored(count: int) -> str:
    return f"Sensei, {count} message(s) from last time are still waiting; I'll send them now."


def devices_listed(count: int) -> str:
    return f"Sensei, your account is signed in on {count} device(s):"


def device_renamed(device: str, name: str) -> str:
    return f"Device {device} is now called {name!r}, Sensei."


def device_revoked(device: str) -> str:
    return f"Device {device} is signed out, Sensei; it needs the password to come back."


def password_changed() -> str:
    return "Your password is changed, Sensei. Every other device was signed out."


def password_reset() -> str:
    return "Your new password is set, Sensei! Every other device was signed out."


def reset_token_refused(error: ClientError) -> str:
    """§14.21: the node says only AUTH_FAILED, whether the token is unknown, used or old."""
    return (
        "Sorry Sensei, that reset token is unknown, used or expired. "
        f"Please ask your node's admin for a new one! — {error.code}: {error.message}"
    )


#: How Arona explains the node's refusals of edits, deletes and reactions (§8, §14.10-14.12);
#: the code and the node's words always follow.
_LIFECYCLE_WORDS = {
    "NOT_AUTHOR": "that message isn't yours, so I can't {action} it",
    "NOT_FOUND": "I can't find that message any more (deleted, or not yours to read)",
    "INVALID": "the node didn't accept that",
    "TOO_LARGE": "that's too much for one message",
    "RATE_LIMITED": "we're going a little fast; wait a moment and try again",
    "UNSUPPORTED": "this node can't do that yet",
    "OFFLINE": "we're offline right now",
}


def lifecycle_failure(action: str, error: BaseException) -> str:
    """A refused edit / delete / reaction / reply, in Arona's words, with the real code."""
    if not isinstance(error, ClientError):
        return failure(action, error)
    words = _LIFECYCLE_WORDS.get(error.code, f"{action} didn't work")
    return f"Sorry Sensei, {words.format(action=action)} — {error.code}: {error.message}"


def nothing_to(action: str) -> str:
    return f"Sensei, there's no message here I could {action}."


def edit_unchanged() -> str:
    return "Nothing to save, Sensei: the edit is cancelled."


def deleted_message() -> str:
    return "Deleted, Sensei. Everyone sees 'message deleted' in its place now."


def jump_missing() -> str:
    return "Sensei, that message is gone: deleted, or not one you can read."
