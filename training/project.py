"""Where things are, defined once for every tool: the project's folders, the shared evaluation data, the newest
trained model, the components of a Rasa config, and the Tatoeba translation pairs."""
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import yaml

from components import PROJECT_ROOT as ROOT

SHARED_DATA = ROOT.parent / "shared" / "data"  # public evaluation data beside the project (its README)
XSID = SHARED_DATA / "xsid"
TATOEBA = SHARED_DATA / "tatoeba"
CONFIG = ROOT / "config.yml"


def newest_model(project: Path = ROOT) -> Path:
    """The model archive `rasa train` wrote last into the project's models/."""
    models = sorted((project / "models").glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained model in {project / 'models'}: run `make train` first.")
    return models[-1]


def pipeline(config: Path = CONFIG) -> List[dict]:
    """The `pipeline` of a Rasa config: one dict per component, its options beside `name`."""
    return yaml.safe_load(config.read_text(encoding="utf-8")).get("pipeline") or []


def component_options(config: Path, class_name: str) -> Optional[dict]:
    """The options a config gives the component of that class (named by class or by module path), or None."""
    return next((dict(c) for c in pipeline(config) if names_component(c, class_name)), None)


def names_component(step: dict, class_name: str) -> bool:
    """Whether a pipeline step is the component of that class (named by class or by module path)."""
    return str(step.get("name", "")).split(".")[-1] == class_name


def tatoeba_pairs(folder: Path = TATOEBA) -> Dict[str, Tuple[Path, Path]]:
    """{language: (foreign file, English file)} for every complete pair `tatoeba.XXX-eng.XXX` /
    `tatoeba.XXX-eng.eng` (line-aligned translations) in the folder."""
    pairs = {}
    for foreign in sorted(folder.glob("tatoeba.*-eng.*")):
        language = foreign.name.split(".")[1].split("-")[0]
        english = foreign.with_name(f"tatoeba.{language}-eng.eng")
        if foreign.suffix != ".eng" and english.exists():
            pairs[language] = (foreign, english)
    return pairs


def tatoeba_lines(folder: Path = TATOEBA) -> Iterator[Tuple[str, List[str], List[str]]]:
    """(language, its lines, their English translations) for every pair, stripped, in file order."""
    for language, (foreign, english) in tatoeba_pairs(folder).items():
        yield language, _lines(foreign), _lines(english)


def _lines(path: Path) -> List[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
