"""Organizations (CERS businesses), their members and roles, invitations and join requests."""
