"""WSGI entry point (gunicorn cers.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from core.wsgi import refuse_unreadable_charset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cers.settings")

# A Content-Type charset that reads no text is answered 400 before Django builds a request
# it cannot (core.wsgi).
application = refuse_unreadable_charset(get_wsgi_application())
