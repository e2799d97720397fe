"""Dify's data and the run model: input formats, normalizing, events → assembled runs, Dify's own
tracing export read back into runs, and run files for `replay`."""
