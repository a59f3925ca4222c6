"""Facility submittals: their elements, validation and the draft -> submitted -> reviewed
lifecycle. The field registry that describes every element's fields is ``core.registry``: the
data dictionary (libraries) and the EDT codecs read it as well."""
