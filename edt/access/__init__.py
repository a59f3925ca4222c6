"""EDT access administration: agencies' access requests, tier grants per environment,
vendors, EDT accounts, their secrets and API tokens, the implementers' list and the
announcements; its services, forms, querysets, views and URLs. The EDT services themselves
are ``edt.api`` (the endpoints), ``edt.processors`` (what each upload does) and
``edt.codecs`` (the XML layouts); the models stay in ``edt.models``."""
