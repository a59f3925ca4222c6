"""Reference libraries: the chemical library, the violation library and the data dictionary
(the numbered fields of the submittal field registry)."""
