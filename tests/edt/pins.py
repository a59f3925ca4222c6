"""Whole EDT answers pinned byte for byte in ``tests/edt/data/``: a change to how an answer is
read or written must not change one byte of it. A test's files are written again only on
purpose, with its environment variable set to ``write`` (``RFQ_PIN=write``, ...)."""

from __future__ import annotations

import os
import re
from pathlib import Path

PINNED = Path(__file__).resolve().parent / "data"


def without_transaction_key(raw: bytes) -> bytes:
    """The answer with its transaction's key, which changes from call to call, named instead,
    in XML and in JSON."""
    text = raw.decode()
    text = re.sub(r'transactionKey="[^"]*"', 'transactionKey="(transaction)"', text)
    text = re.sub(r'"transactionKey": "[^"]*"', '"transactionKey": "(transaction)"', text)
    return text.encode()


def assert_pinned(answer: bytes, name: str, variable: str) -> None:
    """``answer`` is the file ``name`` of the pinned answers, byte for byte (written again
    when ``variable`` is ``write``)."""
    path = PINNED / name
    if os.environ.get(variable) == "write":
        path.write_bytes(answer)
    assert answer == path.read_bytes()
