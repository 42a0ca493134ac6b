"""A zero-shot label as declared in config.yml: a one-line description, or a dict with `description`,
`hypothesis_template` and English `examples`; and the hypothesis an NLI model reads for it."""
from rasa.shared.exceptions import InvalidConfigException


def label_spec(spec, template: str) -> dict:
    """Normalises a label's declaration: a plain description string, or a dict."""
    spec = {"description": spec} if isinstance(spec, str) else dict(spec or {})
    if not spec.get("description"):
        raise InvalidConfigException(f"Every zero-shot label needs a `description`; got {spec!r}.")
    spec["hypothesis"] = hypothesis(spec["description"], spec.get("hypothesis_template") or template)
    spec["examples"] = list(spec.get("examples") or [])
    return spec


def hypothesis(description: str, template: str) -> str:
    return template.format(description)


def intent_hypothesis(intent: str, template: str) -> str:
    """A head intent has no description: its name, words apart, stands in for one."""
    return hypothesis(intent.replace("_", " "), template)
