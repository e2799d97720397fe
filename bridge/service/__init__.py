"""The running bridge: assembler, span builder, pipelines and their workers, and the durable queue with
one delivery per exporter."""
