"""Regulator agencies (CUPAs, PAs, the state), their staff and roles, and jurisdiction."""
