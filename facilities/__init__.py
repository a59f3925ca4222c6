"""Facilities (CERS IDs), their addresses, and which regulator handles each element."""
