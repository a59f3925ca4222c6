"""Facility submittals: their elements, the field registry that describes every element's
fields (``submittals.registry``), validation and the draft -> submitted -> reviewed lifecycle."""
