"""The hallucination detector's parts; detectors/hallucination.py holds its KEY, Config, create and rule order."""
