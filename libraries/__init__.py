"""Reference libraries: the chemical library (and, later, the violation library and the
data dictionary)."""
