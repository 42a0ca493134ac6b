"""Structured entities: Duckling in a child process, dateparser and digits, times of day, decades."""
