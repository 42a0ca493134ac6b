"""Rasa's conversation stores, made to fail loudly (`failures`), read quickly (`events`) and, in Redis, to append
turns instead of rewriting conversations (`redis_tracker`) and to lock them atomically (`redis_lock`). The
endpoints files name them by module: `bot.stores.in_memory.InMemoryTrackerStore` and so on.
"""
