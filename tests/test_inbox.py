"""The review inbox: conversations read through Rasa's SQL tracker store (SQLite), exported to a sheet, labelled,
imported into data/nlu_reviewed.yml, and reported per language and day."""
import asyncio
import json
import time

import pytest
import yaml
from openpyxl import load_workbook

from training.inbox.__main__ import main

DAY = 24 * 3600
NOW = time.time()


def parsed(text, intent, confidence, language, runner_up="greet", entities=()):
    ranking = [{"name": intent, "confidence": confidence}, {"name": runner_up, "confidence": 0.05}]
    if intent == "nlu_fallback":
        ranking.insert(1, {"name": "book_table", "confidence": 0.28})
    return {"text": text, "intent": ranking[0], "intent_ranking": ranking,
            "entities": [{"entity": "language", "value": language}, *entities]}


# (sender, [(seconds after the first, text, parse, answer)])
CONVERSATIONS = [
    ("anna@example.com", [(0, "ខ្ញុំចង់កក់តុមួយ", parsed("ខ្ញុំចង់កក់តុមួយ", "nlu_fallback", 0.3, "km"), "សូមនិយាយម្តងទៀត"),
                          (20, "ខ្ញុំចង់កក់តុសម្រាប់ ៤ នាក់", parsed("ខ្ញុំចង់កក់តុសម្រាប់ ៤ នាក់", "book_table", 0.63, "km"),
                           "សម្រាប់ថ្ងៃណា?")]),
    ("+90 555 123 4567", [(0, "Merhaba", parsed("Merhaba", "greet", 0.97, "tr"), "Merhaba!"),
                          (5, "Şifremi unuttum, beni 0555 123 45 67 numarasından arayın",
                           parsed("Şifremi unuttum, beni 0555 123 45 67 numarasından arayın", "reset_password", 0.42,
                                  "tr"), "Şifrenizi sıfırlamak için...")]),
    ("third", [(0, "ខ្ញុំចង់កក់តុមួយ", parsed("ខ្ញុំចង់កក់តុមួយ", "nlu_fallback", 0.3, "km"), "សូមនិយាយម្តងទៀត")]),
    ("fourth", [(0, "Habari yako", parsed("Habari yako", "greet", 0.81, "sw"), "Hello!")]),
    ("fifth", [(-3 * DAY, "where is my parcel", parsed("where is my parcel", "track_order", 0.45, "en"), "Your order..."),
               (-3 * DAY + 30, "where is my parcel please",
                parsed("where is my parcel please", "track_order", 0.91, "en"), "Your order...")]),
]


def fill(path, endpoints=None, conversations=CONVERSATIONS):
    """A tracker store with these conversations, created from ENDPOINTS as `rasa run` creates it (default: a SQLite
    store of Rasa's SQL tracker store); returns its endpoints file."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from training.project import ROOT

    if endpoints is None:
        endpoints = path / "endpoints.yml"
        endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {path / 'conversations.db'}\n")
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = TrackerStore.create(AvailableEndpoints.read_endpoints(str(endpoints)).tracker_store, domain)

    async def save():
        for sender, turns in conversations:
            tracker = DialogueStateTracker(sender, domain.slots)
            for seconds, text, parse, answer in turns:
                tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse, timestamp=NOW + seconds))
                tracker.update(SlotSet("language", parse["entities"][0]["value"], timestamp=NOW + seconds + 1))
                tracker.update(BotUttered(answer, timestamp=NOW + seconds + 2))
            await store.save(tracker)

    asyncio.run(save())
    return endpoints


def sheet_rows(path):
    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    return fill(tmp_path_factory.mktemp("store"))


def test_the_inbox_lists_what_the_bot_did_not_understand_most_frequent_first(endpoints, tmp_path):
    assert main(["export", "--endpoints", str(endpoints), "--out", str(tmp_path / "inbox.xlsx")]) == 0
    header, rows = sheet_rows(tmp_path / "inbox.xlsx")
    assert list(header) == ["text", "language", "count", "predicted_intent", "confidence", "runner_up", "entities",
                            "answer", "first_seen", "last_seen", "intent", "annotated_text"]
    texts = [row["text"] for row in rows]
    assert texts[0] == "ខ្ញុំចង់កក់តុមួយ" and rows[0]["count"] == 2 and rows[0]["language"] == "km"
    assert rows[0]["predicted_intent"] == "book_table" and rows[0]["answer"] == "សូមនិយាយម្តងទៀត"  # the fallback's guess
    assert "Merhaba" not in texts and "ខ្ញុំចង់កក់តុសម្រាប់ ៤ នាក់" not in texts  # understood well: left out
    assert "where is my parcel" in texts  # unsure, and rephrased right after
    assert "Habari yako" in texts  # no answers in Swahili
    assert "Şifremi unuttum, beni [phone] numarasından arayın" in texts  # masked
    everything = str(list(load_workbook(tmp_path / "inbox.xlsx").worksheets[0].values))
    assert "anna@example.com" not in everything and "0555 123 45 67" not in everything and "fifth" not in everything


def test_the_inbox_reads_the_redis_store_that_make_serve_uses(endpoints, tmp_path):
    """Rasa 3.6's Redis store lists its keys with their prefix: read as ids, every conversation came back empty."""
    from operations.servers import RedisServer

    redis = RedisServer(tmp_path)
    try:
        in_redis = fill(tmp_path, redis.endpoints_file(tmp_path / "endpoints.redis.yml"))
        assert main(["export", "--endpoints", str(in_redis), "--out", str(tmp_path / "redis.xlsx")]) == 0
    finally:
        redis.stop()
    main(["export", "--endpoints", str(endpoints), "--out", str(tmp_path / "sql.xlsx")])
    assert sheet_rows(tmp_path / "redis.xlsx")[1] == sheet_rows(tmp_path / "sql.xlsx")[1] != []


@pytest.mark.parametrize("problem, refusal", [
    ("missing", "there is no endpoints file"),
    ("broken YAML", "cannot be read"),
    ("Redis not running", "Is it running"),
    ("no conversations", "holds no conversations"),
    ("no database file", "which does not exist"),
])
def test_a_store_that_cannot_be_read_is_said_so_and_nothing_written(tmp_path, capsys, problem, refusal):
    from operations.servers import free_port

    endpoints = tmp_path / "endpoints.yml"
    text = {"broken YAML": "tracker_store: [type: SQL\n",
            "Redis not running": f"tracker_store:\n  type: redis\n  url: 127.0.0.1\n  port: {free_port()}\n",
            "no conversations": f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'empty.db'}\n",
            "no database file": f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'typo.db'}\n"}
    (tmp_path / "empty.db").touch()  # SQLite's empty database
    if problem in text:
        endpoints.write_text(text[problem])
    with pytest.raises(SystemExit) as stopped:
        main(["export", "--endpoints", str(endpoints), "--out", str(tmp_path / "inbox.xlsx")])
    assert refusal in str(stopped.value) and not (tmp_path / "inbox.xlsx").exists()
    assert not (tmp_path / "typo.db").exists()


def test_the_intent_column_offers_the_domains_intents(endpoints, tmp_path):
    main(["export", "--endpoints", str(endpoints), "--out", str(tmp_path / "inbox.xlsx")])
    book = load_workbook(tmp_path / "inbox.xlsx")
    validation, = book.worksheets[0].data_validations.dataValidation
    assert validation.type == "list" and "K2" in str(validation.sqref)
    listed = [row[0] for row in book["Intents"].iter_rows(values_only=True)]
    assert "book_table" in listed and "cancel_subscription" in listed and book["Intents"].sheet_state == "hidden"
    assert "nlu_fallback" not in listed and "session_start" not in listed  # Rasa's own: nothing is an example


def test_export_options_narrow_or_widen_the_inbox(endpoints, tmp_path):
    def exported(*options):
        main(["export", "--endpoints", str(endpoints), "--out", str(tmp_path / "inbox.xlsx"), *options])
        return [row["text"] for row in sheet_rows(tmp_path / "inbox.xlsx")[1]]

    assert exported("--languages", "km") == ["ខ្ញុំចង់កក់តុមួយ"]
    assert exported("--min-count", "2") == ["ខ្ញុំចង់កក់តុមួយ"]
    assert "where is my parcel" not in exported("--since", time.strftime("%Y-%m-%d", time.gmtime(NOW - DAY)))
    everything = exported("--all", "--keep-pii")
    assert "Merhaba" in everything and "Şifremi unuttum, beni 0555 123 45 67 numarasından arayın" in everything


@pytest.fixture()
def filled(endpoints, tmp_path):
    """The exported sheet with the author's labels: two rows labelled, one with entities."""
    path = tmp_path / "inbox.xlsx"
    main(["export", "--endpoints", str(endpoints), "--out", str(path)])
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "ខ្ញុំចង់កក់តុមួយ":
            row[10].value = "book_table"
        if row[0].value == "where is my parcel":
            row[10].value, row[11].value = "track_order", "where is my parcel"
    book.save(path)
    return path, book


def test_labelled_rows_become_examples_in_their_language_once(filled, tmp_path):
    path, _ = filled
    reviewed = tmp_path / "nlu_reviewed.yml"
    assert main(["import", str(path), "--out", str(reviewed)]) == 0
    data = yaml.safe_load(reviewed.read_text())
    examples = {block["intent"]: block["examples"] for block in data["nlu"]}
    assert examples["book_table"] == [{"text": "ខ្ញុំចង់កក់តុមួយ", "metadata": {"language": "km"}}]
    assert examples["track_order"] == [{"text": "where is my parcel", "metadata": {"language": "en"}}]
    before = reviewed.read_text()
    assert main(["import", str(path), "--out", str(reviewed)]) == 0 and reviewed.read_text() == before
    from rasa.shared.nlu.training_data.loading import load_data

    loaded = {m.get("text"): m for m in load_data(str(reviewed)).training_examples}
    assert loaded["ខ្ញុំចង់កក់តុមួយ"].get("metadata")["example"] == {"language": "km"}  # what the second body reads


@pytest.mark.parametrize("column, value, refusal", [
    (10, "book_a_flight", "Row 2: the intent 'book_a_flight' is not in the domain"),
    (11, "ខ្ញុំចង់កក់តុ[មួយ](party_size", "Row 2: `annotated_text` must be the row's text"),
    (11, "[ខ្ញុំចង់កក់តុមួយ](dish)", "Row 2: the entity dish is not in the domain"),
    (10, "nlu_fallback", "Row 2: 'nlu_fallback' is Rasa's own intent"),
])
def test_a_row_that_cannot_be_an_example_is_refused_and_nothing_written(filled, tmp_path, capsys, column, value,
                                                                        refusal):
    path, book = filled
    book.worksheets[0].cell(row=2, column=column + 1, value=value)
    book.worksheets[0].cell(row=2, column=11, value=book.worksheets[0].cell(row=2, column=11).value or "book_table")
    book.save(path)
    reviewed = tmp_path / "nlu_reviewed.yml"
    assert main(["import", str(path), "--out", str(reviewed)]) == 1
    assert refusal in capsys.readouterr().err and not reviewed.exists()


@pytest.mark.parametrize("name, content", [("missing.xlsx", None), ("README.xlsx", "# not a sheet"),
                                           ("inbox.csv", "text,intent\nhello,greet\n")])
def test_a_file_that_is_not_an_inbox_sheet_is_refused(tmp_path, capsys, name, content):
    if content is not None:
        (tmp_path / name).write_text(content)
    assert main(["import", str(tmp_path / name), "--out", str(tmp_path / "nlu_reviewed.yml")]) == 1
    refusal = capsys.readouterr().err
    assert "cannot be read as an .xlsx sheet" in refusal and not (tmp_path / "nlu_reviewed.yml").exists()


def test_a_text_labelled_with_another_intent_than_before_is_refused(filled, tmp_path, capsys):
    path, book = filled
    reviewed = tmp_path / "nlu_reviewed.yml"
    assert main(["import", str(path), "--out", str(reviewed)]) == 0
    before = reviewed.read_text()
    for row in book.worksheets[0].iter_rows(min_row=2):
        if row[0].value == "ខ្ញុំចង់កក់តុមួយ":
            row[10].value = "greet"
    book.save(path)
    assert main(["import", str(path), "--out", str(reviewed)]) == 1
    assert "is already an example of book_table" in capsys.readouterr().err and reviewed.read_text() == before


def test_a_text_the_training_data_gives_another_intent_is_refused(filled, tmp_path, capsys):
    path, _ = filled
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nlu.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
                                               '    - where is my parcel\n')
    reviewed = tmp_path / "nlu_reviewed.yml"
    assert main(["import", str(path), "--out", str(reviewed), "--data", str(tmp_path / "data")]) == 1
    assert "is already an example of greet" in capsys.readouterr().err and not reviewed.exists()


def test_examples_written_by_hand_in_rasas_text_style_are_kept(filled, tmp_path):
    path, _ = filled
    reviewed = tmp_path / "nlu_reviewed.yml"
    reviewed.write_text('version: "3.1"\nnlu:\n- intent: book_table\n  examples: |\n    - a table for two\n')
    assert main(["import", str(path), "--out", str(reviewed)]) == 0
    from rasa.shared.nlu.training_data.loading import load_data

    texts = {m.get("text"): m.get("intent") for m in load_data(str(reviewed)).training_examples}
    assert texts == {"a table for two": "book_table", "ខ្ញុំចង់កក់តុមួយ": "book_table",
                     "where is my parcel": "track_order"}


@pytest.mark.parametrize("text, shown", [
    ("call me on 0532 123 45 67", "call me on [phone]"), ("beni +90 555 123 4567 arayın", "beni [phone] arayın"),
    ("write to bob@example.org", "write to [email]"), ("where is my order 12345678", "where is my order 12345678"),
    ("time=2026-12-06T19:00:00.000+00:00", "time=2026-12-06T19:00:00.000+00:00"),
])
def test_emails_and_phone_numbers_are_masked_and_dates_and_order_numbers_are_not(text, shown):
    from training.inbox.privacy import masked

    assert masked(text) == shown


def test_a_sheet_of_another_bot_is_refused(filled, tmp_path, capsys):
    path, book = filled
    book["About"]["B1"] = "book_flight\ncheck_in"
    book.save(path)
    assert main(["import", str(path), "--out", str(tmp_path / "nlu_reviewed.yml")]) == 1
    assert "exported for another bot" in capsys.readouterr().err and not (tmp_path / "nlu_reviewed.yml").exists()


def test_the_report_shows_each_languages_failures_per_day(endpoints, tmp_path):
    assert main(["report", "--endpoints", str(endpoints), "--out", str(tmp_path / "report")]) == 0
    rows = json.loads((tmp_path / "report" / "report.json").read_text())["by_language_and_day"]
    khmer, = [row for row in rows if row["language"] == "km"]
    assert khmer["messages"] == 3 and khmer["nlu_fallback"] == pytest.approx(2 / 3, abs=1e-4)
    english = [row for row in rows if row["language"] == "en"]
    assert english[0]["messages"] == 2 and english[0]["rephrased"] == 0.5 and english[0]["unsure"] == 0.5
    assert "| km |" in (tmp_path / "report" / "table.md").read_text()
    assert (tmp_path / "report" / "reasons_by_language.png").stat().st_size > 10_000


def test_one_round_of_the_inbox_teaches_the_bot_what_it_missed(tmp_path):
    """The replay loop on a slice: messages through `rasa run` into Rasa's SQL store, the inbox exported, labelled
    from gold intents, imported, the bot retrained; what was labelled is understood afterwards."""
    from operations import inbox_replay
    from training.project import ROOT

    assert inbox_replay.main(["--train", str(ROOT / "training/everyday/train.yml"), "--test",
                              str(ROOT / "training/everyday/test.csv"), "--languages", "deu,kor",
                              "--seeds", "0", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["replayed"] == 14 and report["inbox_rows"] == report["labelled"] == 14  # no answers in de, ko
    assert set(report["before"]) == set(report["after"]) == {"deu", "kor", "eng"} and report["held_back"] == 33
    assert set(report["replayed_after"]) == {"deu", "kor"} and min(report["replayed_after"].values()) >= 0.85
    assert (tmp_path / "before_after.png").stat().st_size > 10_000


def test_the_replay_seeds_the_intent_head_and_names_each_run():
    """The replay's gain moves with the intent head's seed as much as with the split (docs/decisions/0073): each
    split can be run with several head seeds, in a copy of config.yml that differs only there."""
    from operations import inbox_replay
    from training.project import CONFIG

    seeded = yaml.safe_load(inbox_replay.with_head_seed(CONFIG, 43))["pipeline"]
    original = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["pipeline"]
    head = "components.keras_intent_classifier.KerasIntentClassifier"
    assert [c for c in seeded if c not in original] == [{"name": head, "random_seed": 43}]
    assert len(seeded) == len(original)
    run = {"train": "t", "test": "x.csv", "config": "config.yml", "share": 0.3, "sentences": {"deu": 18},
           "macro_languages": ["deu"], "replayed": 5, "inbox_rows": 5, "labelled": 5, "held_back": 13}
    runs = [{**run, "seed": 0, "head_seed": head_seed, "before": {"deu": before}, "after": {"deu": 1.0},
             "replayed_after": {"deu": 1.0}, "macro_before": before, "macro_after": 1.0}
            for head_seed, before in ((42, 0.8), (43, 0.9))]
    report = inbox_replay.combined(runs)
    assert report["macro_before"] == 0.85 and report["head_seeds"] == [42, 43]
    assert "(split 0, head seed 43) | 0.900 | 1.000 |" in inbox_replay.table(report)
