"""What `rasa run` wires in through credentials.yml and the endpoints files: the channels (and the guard in front
of them), the conversation stores, and the web chat page. The NLU components live in components/."""
