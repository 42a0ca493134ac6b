"""The import rule docs/architecture.md states: `operations/` -> `training/` -> `components/`, `bot/` wired in by
Rasa's config files and imported by nobody, and no graph component module importing another."""
import ast
from pathlib import Path
from typing import List

from training.project import ROOT

PACKAGES = ("components", "training", "operations", "bot")
# What each folder may import of the project's folders.
ALLOWED = {"components": {"components"}, "training": {"components", "training"},
           "operations": {"components", "training", "operations"}, "bot": {"bot", "components"}}
# Modules of components/ that are not graph components: they may be imported by any.
SHARED = {"__init__", "keys"}


def imported(path: Path) -> List[str]:
    """The project modules a file imports (`from components.keys import X` -> components.keys)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [f"{node.module}.{alias.name}" if node.module in PACKAGES else node.module for alias in node.names]
    return [name for name in found if name.split(".")[0] in PACKAGES]


def violations(root: Path) -> List[str]:
    graph_components = {f"components.{path.stem}" for path in (root / "components").glob("*.py")
                        if path.stem not in SHARED}
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root)
            for name in imported(path):
                if name.split(".")[0] not in ALLOWED[package]:
                    found.append(f"{where} imports {name}: {package}/ may import only {sorted(ALLOWED[package])}")
                own = f"components.{path.stem}" if path.parent == root / "components" else None
                other = next((c for c in graph_components if name == c or name.startswith(c + ".")), None)
                if own in graph_components and other and other != own:
                    found.append(f"{where} imports {name}: a graph component imports another; share it through "
                                 "components/keys.py or a sub-package")
    return found


def test_the_project_keeps_its_import_rule():
    assert violations(ROOT) == []


def test_a_wrong_import_is_caught(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "components" / "keys.py").write_text("SHARED = 1\n")
    (tmp_path / "components" / "first_component.py").write_text("from components.keys import SHARED\n")
    (tmp_path / "components" / "second_component.py").write_text("from components.first_component import X\n")
    (tmp_path / "components" / "helper.py").write_text("from training.project import ROOT\n")
    (tmp_path / "training" / "tool.py").write_text("import operations.servers\nfrom bot import nlg\n")
    (tmp_path / "bot" / "glue.py").write_text("from components.keys import SHARED\n")
    assert sorted(violations(tmp_path)) == [
        "components/helper.py imports training.project: components/ may import only ['components']",
        "components/second_component.py imports components.first_component: a graph component imports another; "
        "share it through components/keys.py or a sub-package",
        "training/tool.py imports bot.nlg: training/ may import only ['components', 'training']",
        "training/tool.py imports operations.servers: training/ may import only ['components', 'training']",
    ]
