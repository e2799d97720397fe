"""The task_derailment detector's parts; detectors/task_derailment.py holds its KEY, Config, create and rule order."""
