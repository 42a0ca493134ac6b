"""Custom Rasa graph components, one per file; config.yml names them by module path."""
