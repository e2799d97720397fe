"""Failure detectors over Dify traces (one module per detector; see the detectors issue)."""
