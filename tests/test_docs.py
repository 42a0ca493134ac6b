"""The documentation a newcomer reads: the README stays a user's guide, the docs' result tables are those their
reports give, and the modules and commands they name exist."""
import re

from operations import docs_tables
from training.project import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose(text: str) -> str:
    """The text without code blocks and inline code (where `[4](party_size)` is Rasa's markup, not a link)."""
    return re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))


def test_every_results_table_is_the_one_its_report_gives():
    assert docs_tables.main(["--check"]) == 0


def test_the_readme_is_a_users_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "make chat" in readme[:1500] and "make test" in readme[:1500]  # the first screen says how to start


def test_no_lab_notebook_left_in_the_docs():
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for pattern in (r"/tmp/", r"throwaway", r"previous release", r"\bissue \d+"):
            assert not re.search(pattern, text, re.I), (document.name, pattern)


def test_the_modules_the_docs_name_exist():
    """`components.x.Y`, `bot.channels.x.Y`, `python -m training.x`... must resolve: docs follow the code."""
    import importlib

    named = set()
    for document in DOCUMENTS:
        named |= set(re.findall(r"\b((?:components|bot|training|operations)(?:\.\w+)+)", document.read_text("utf-8")))
    for name in sorted(n for n in named if not re.search(r"\.(md|yml|py|json|txt|png|log)$", n)):
        parts = name.split(".")
        module, attribute = ".".join(parts[:-1]), parts[-1]
        try:
            importlib.import_module(name)
        except ImportError:
            assert hasattr(importlib.import_module(module), attribute), name


def test_relative_links_point_at_files_that_exist():
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", prose(document.read_text(encoding="utf-8"))):
            assert (document.parent / target).exists(), (document.name, target)


# Files the docs name that a command writes, rather than the repository holding them.
WRITTEN_BY_COMMANDS = {"data/nlu_reviewed.yml"}


def test_the_paths_the_docs_name_exist():
    """`components/encoders/onnx_runtime.py`, `training/everyday/test.csv`...: a moved file is a stale doc."""
    pattern = r"\b((?:components|bot|training|operations|tests|data|docs)/[\w/.-]*\w\.(?:py|yml|md|json|csv|txt|html))\b"
    for document in DOCUMENTS:
        for path in set(re.findall(pattern, document.read_text(encoding="utf-8"))) - WRITTEN_BY_COMMANDS:
            assert (ROOT / path).exists(), (document.relative_to(ROOT), path)
