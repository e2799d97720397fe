"""What a metric's series are made of, as plain data: measurements cross from a pipeline worker to the server
process, and the config reads the series' bound, without the OpenTelemetry SDK's metrics loaded (`replay` has
no metrics and loads none)."""

from __future__ import annotations

# Attributes of one series as (key, value) pairs: hashable, cheap to build at the call site.
Key = tuple[tuple[str, str], ...]
# (series name, value, attributes): what `Aggregates.apply` records; plain data, so a pipeline worker's
# measurements travel to the server process.
Measurement = tuple[str, float, Key]
# Series (attribute sets) a metric keeps at most; measurements past it go to the overflow series.
DEFAULT_MAX_SERIES = 200
