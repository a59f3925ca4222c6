"""The processors of EDT uploads, one module per group of endpoints (``edt.uploads.processes``).

Each module registers its processors when imported; ``edt.api.urls.ENDPOINT_MODULES`` imports
them.
"""
