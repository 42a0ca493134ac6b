"""The bot run as a service and measured: servers started for tools and tests (`servers`), speed and memory
(`benchmark`), load (`loadtest`), faults survived (`faults`) and the hostile clients they send (`hostile`)."""
