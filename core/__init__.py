"""Cross-cutting pieces shared by every app: audit events, number sequences, the e-mail
outbox, and the base views that enforce scoping once."""
