"""`dify-otel-bridge`: the console entry and its commands."""
