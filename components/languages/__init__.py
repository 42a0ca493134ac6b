"""Languages and scripts: which language a message is in, what of its text is read, dictionaries."""
