"""`python -m bridge.cli`: the same command as the installed `dify-otel-bridge`."""

from bridge.cli.entry import main

main()
