"""The poller's settings (its `Config`, YAML `receivers.poller`): apart from the receiver's module, so that
reading a config (`replay` reads every section) does not import the receiver's server libraries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Time between two polls of every key.
    interval: Duration = 30.0
    # How far back the first poll with a key looks.
    lookback: Duration = 3600.0
    # Runs younger than this are left for the next poll, so a stream still delivering them wins.
    settle: Duration = 10.0
    # A run still `running` this long after it started is exported as `incomplete` and the cursor moves past
    # it (Dify 1.14.1 leaves a run stopped between two nodes `running` for good). 0: wait for every run.
    unfinished_timeout: Duration = 3600.0
    # Log entries per page (Dify allows at most 100).
    page_limit: int = Field(default=100, ge=1, le=100)
    # Deadline of one request to Dify.
    timeout: Duration = 10.0
