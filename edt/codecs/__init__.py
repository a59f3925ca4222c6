"""How CERS records are laid out in CalEPA's EDT XML: shared by the queries that write them
(``edt.api``) and the processors that read uploads (``edt.processors``)."""
