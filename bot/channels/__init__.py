"""The channels `rasa run` listens on (credentials.yml): REST, socket.io, the web chat page, and the guard that
checks every request before Rasa's handlers see it."""
