"""The zero-shot step's parts: label space, backends, winning rules, the background null."""
