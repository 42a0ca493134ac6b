"""training.responses: the translators' round trip (export, fill in, import) writes exactly the new variations into
domain.yml, keeps everything else byte for byte, and refuses a bad sheet with where and why, writing nothing."""
import shutil

import pytest
from openpyxl import load_workbook

from training import responses
from training.project import ROOT


@pytest.fixture()
def domain(tmp_path):
    copy = tmp_path / "domain.yml"
    shutil.copy(ROOT / "domain.yml", copy)
    return copy


def exported(domain, tmp_path, languages="sw,ko"):
    sheet = tmp_path / "responses.xlsx"
    assert responses.main(["--domain", str(domain), "export", "--languages", languages, "--out", str(sheet)]) == 0
    return sheet


def edited(sheet, tmp_path, changes, header=None):
    """The sheet with {(response, language): text} written in (and a column renamed, when `header` says so)."""
    book = load_workbook(sheet)
    rows = book[responses.SHEET]
    columns = [cell.value for cell in rows[1]]
    for row in rows.iter_rows(min_row=2):
        for (name, language), text in changes.items():
            if row[0].value == name:
                row[columns.index(language)].value = text
    for old, new in (header or {}).items():
        rows.cell(row=1, column=columns.index(old) + 1).value = new
    path = tmp_path / "edited.xlsx"
    book.save(path)
    return path


def test_a_round_trip_without_edits_leaves_the_domain_byte_for_byte(domain, tmp_path):
    before = domain.read_bytes()
    sheet = exported(domain, tmp_path, "es,tr,vi")  # languages the domain has, their texts filled in
    assert responses.main(["--domain", str(domain), "import", str(sheet)]) == 0
    assert domain.read_bytes() == before


def test_the_sheet_shows_each_text_its_placeholders_and_what_is_missing(domain, tmp_path):
    rows = list(load_workbook(exported(domain, tmp_path, "sw,es"))[responses.SHEET].iter_rows(values_only=True))
    assert rows[0] == tuple(responses.COLUMNS + ["sw", "es"])
    booking = next(row for row in rows if row[0] == "utter_booking_confirmed")
    assert booking[3] == "{party_size} {time}" and booking[5] is None and booking[6].startswith("Hecho")


def test_an_edited_sheet_adds_exactly_the_new_variations(domain, tmp_path):
    before = domain.read_text(encoding="utf-8")
    sheet = edited(exported(domain, tmp_path), tmp_path, {
        ("utter_greet", "sw"): "Habari! Nikusaidie nini leo?",
        ("utter_booking_confirmed", "sw"): "Tayari: meza ya watu {party_size} tarehe {time}. Karibu!"})
    assert responses.main(["--domain", str(domain), "import", str(sheet)]) == 0
    after = domain.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["          value: sw", '      text: "Habari! Nikusaidie nini leo?"', "          value: sw",
                     '      text: "Tayari: meza ya watu {party_size} tarehe {time}. Karibu!"'], added
    assert len(after.splitlines()) == len(before.splitlines()) + 10  # two variations of five lines each
    assert responses.gaps(domain)["sw"] and "utter_greet" not in responses.gaps(domain)["sw"]


@pytest.mark.parametrize("changes, header, message", [
    ({("utter_booking_confirmed", "sw"): "Tayari: meza ya watu {party_size}."}, None, "placeholders"),
    ({("utter_booking_confirmed", "sw"): "Tayari {party_size} {time} {name}."}, None, "placeholders"),
    ({}, {"sw": "Swahili"}, "not a BCP-47 language code"),
    ({}, {"ko": "xx-yy"}, "not a BCP-47 language code"),
], ids=["dropped placeholder", "invented placeholder", "a name, not a code", "no such language"])
def test_a_bad_sheet_is_refused_with_where_and_why_and_nothing_is_written(domain, tmp_path, capsys, changes, header,
                                                                        message):
    before = domain.read_bytes()
    sheet = edited(exported(domain, tmp_path), tmp_path, changes, header)
    assert responses.main(["--domain", str(domain), "import", str(sheet)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Sheet 'Responses', row" in error and "Nothing was written" in error
    assert domain.read_bytes() == before


def test_an_unknown_response_is_refused(domain, tmp_path, capsys):
    book = load_workbook(exported(domain, tmp_path))
    book[responses.SHEET].cell(row=2, column=1).value = "utter_no_such_thing"
    book.save(tmp_path / "unknown.xlsx")
    before = domain.read_bytes()
    assert responses.main(["--domain", str(domain), "import", str(tmp_path / "unknown.xlsx")]) == 2
    assert "no response 'utter_no_such_thing'" in capsys.readouterr().err and domain.read_bytes() == before


def test_a_sheet_from_another_domain_is_refused(domain, tmp_path, capsys):
    sheet = exported(domain, tmp_path)
    domain.write_text(domain.read_text(encoding="utf-8").replace("Hello! How can I help you today?", "Hi there!"),
                      encoding="utf-8")
    before = domain.read_bytes()
    assert responses.main(["--domain", str(domain), "import", str(sheet)]) == 2
    assert "another domain.yml" in capsys.readouterr().err and domain.read_bytes() == before


def test_check_names_what_each_language_lacks(domain, tmp_path, capsys):
    sheet = edited(exported(domain, tmp_path), tmp_path, {("utter_greet", "sw"): "Habari!"})
    responses.main(["--domain", str(domain), "import", str(sheet)])
    assert responses.main(["--domain", str(domain), "check"]) == 0
    warnings = capsys.readouterr().out.splitlines()
    assert len([w for w in warnings if w.startswith("warning: no 'sw' text")]) == 1 and "utter_goodbye" in warnings[-1]


def test_the_demo_answers_in_twelve_languages():
    from rasa.shared.utils.io import read_yaml_file

    from components.languages.detection import answer_languages

    languages = answer_languages(read_yaml_file(str(ROOT / "domain.yml"))["responses"])
    assert {"tr", "km", "de", "zh", "ar", "es", "fr", "ru", "ja", "vi", "hi"} <= set(languages)
    assert not any(responses.gaps(ROOT / "domain.yml").values())  # every response in every one of them
