"""The review inbox: `python -m training.inbox export|import|report` (training/inbox/__main__.py)."""
