"""Runtime glue of the bot: language detection for language-aware answers."""
