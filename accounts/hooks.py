"""Hooks the apps above accounts fill in (``core.hooks``): accounts come first, yet other apps
keep a person's e-mail address beside their account (the EDT implementers' list), and a change
of the account's address must carry them along in the same transaction."""

from core.hooks import Hook

email_changed = Hook(
    "email_changed",
    "``(user, old_email, new_email) -> None``: bring the app's records of the person's address "
    "in step with the account's new one, inside the change's transaction (with their own "
    "audit events).",
)
