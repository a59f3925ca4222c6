"""Submittal pages: ``business`` for the business portal, ``regulator`` for the regulator portal."""
