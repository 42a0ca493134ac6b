"""The bot as people reach it: REST over HTTP, the web chat page in Chromium, two replicas on Redis."""
import re
import shutil

import pytest
import requests

from tests.servers import RedisServer
from training.rasa_server import ROOT, RasaServer

KHMER = re.compile("[\u1780-\u17ff]")
ARTIFACTS = ROOT / "reports" / "test-artifacts"
THUMBS_UP_IN_TURKISH = ("Rica ederim", "Üzgünüm")  # read as thanks, or as unclear: either way in Turkish


@pytest.fixture(scope="module")
def server(trained_model, tmp_path_factory):
    running = RasaServer(trained_model, tmp_path_factory.mktemp("server-logs")).wait_until_ready()
    yield running
    running.stop()


def test_rest_conversation_in_khmer(server):
    assert server.say("km-user", "ហាងបើកម៉ោងប៉ុន្មាន?")[0].startswith("យើងបើក")
    assert server.say("km-user", "តើអ្នកជាមនុស្សឬ?")[0].startswith("ខ្ញុំជាបូត")
    assert server.say("km-user", "អរគុណ")[0].startswith("មិនអីទេ")


def test_rest_conversation_in_turkish_keeps_its_language(server):
    assert server.say("tr-user", "Merhaba, nasılsın?")[0].startswith("Merhaba!")
    assert server.say("tr-user", "Saat kaçta açıksınız?")[0].startswith("Pazartesiden")
    assert server.say("tr-user", "👍")[0].startswith(THUMBS_UP_IN_TURKISH)  # no language in it: still Turkish
    assert server.say("tr-user", "teşekkürler")[0].startswith("Rica ederim")


def post(server, data: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(f"{server.url}/webhooks/rest/webhook", data=data,
                         headers={"Content-Type": content_type}, timeout=60)


BAD_REQUESTS = {
    "invalid JSON": (b'{"sender": "x", "message": ', "application/json", 400),
    "missing message": (b'{"sender": "x"}', "application/json", 400),
    "message not a string": (b'{"sender": "x", "message": 42}', "application/json", 400),
    "JSON list": (b'["hello"]', "application/json", 400),
    "1 MB body": (b'{"sender": "x", "message": "' + b"a" * 1_000_000 + b'"}', "application/json", 413),
    "wrong content type": (b"sender=x&message=hello", "application/x-www-form-urlencoded", 415),
    "invalid UTF-8": (b'{"sender": "x", "message": "\xff\xfe hello"}', "application/json", 400),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_request_gets_a_4xx_and_the_server_keeps_serving(server, name):
    body, content_type, status = BAD_REQUESTS[name]
    reply = post(server, body, content_type)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]
    assert server.say(f"after-{name}", "hello there")[0].startswith("Hello!")


def test_control_characters_get_a_normal_answer(server):
    reply = post(server, '{"sender": "ctrl", "message": "\\u0000\\u0007hello\\u001b[31m there\\u007f"}'.encode())
    assert reply.status_code == 200 and reply.json()[0]["text"]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("Debian's chromium and chromium-driver are needed: `make test` installs them.")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=700,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


def chat_in_page(browser, text: str, answers_before: int) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = browser.find_element(By.ID, "text")
    box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(browser, 60).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".bubble.bot")) > answers_before)
    return browser.find_elements(By.CSS_SELECTOR, ".bubble.bot")[-1]


def test_web_chat_page_in_chromium(server, browser):
    browser.get(f"{server.url}/webhooks/webchat/")
    assert "Chat with the bot" in browser.title
    khmer = chat_in_page(browser, "សួស្តី", answers_before=0)
    assert KHMER.search(khmer.text), khmer.text
    arabic = chat_in_page(browser, "أين طلبي؟", answers_before=1)
    assert browser.execute_script("return getComputedStyle(arguments[0]).direction", arabic) == "rtl"
    assert "\u0600" <= arabic.text[0] <= "\u06ff", arabic.text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "webchat.png"))


def test_two_replicas_share_one_conversation_through_redis(trained_model, tmp_path):
    redis = RedisServer(tmp_path)
    endpoints = redis.endpoints_file(tmp_path / "endpoints.yml")
    replicas = [RasaServer(trained_model, tmp_path, endpoints) for _ in range(2)]
    try:
        first, second = (replica.wait_until_ready() for replica in replicas)
        turns = [(first, "Merhaba, nasılsın?", "Merhaba!"), (second, "👍", THUMBS_UP_IN_TURKISH),
                 (first, "Saat kaçta açıksınız?", "Pazartesiden"), (second, "teşekkürler", "Rica ederim")]
        for replica, message, answer in turns:
            assert replica.say("alternating", message)[0].startswith(answer), (replica.port, message)
        for replica in (first, second):
            tracker = replica.tracker("alternating")
            said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
            assert said == [message for _, message, _ in turns]
            assert tracker["slots"]["language"] == "tr"
    finally:
        for replica in replicas:
            replica.stop()
        redis.stop()


def test_auth_token_and_cors_as_documented(trained_model, tmp_path):
    """The README's example: `rasa run --enable-api --auth-token SECRET --cors https://chat.example.com`."""
    secured = RasaServer(trained_model, tmp_path, extra_args=["--auth-token", "s3cret", "--cors",
                                                              "https://chat.example.com"])
    try:
        secured.wait_until_ready(token="s3cret")
        assert requests.get(f"{secured.url}/status", timeout=10).status_code == 401
        assert requests.get(f"{secured.url}/status", params={"token": "s3cret"}, timeout=10).ok
        preflight = requests.options(f"{secured.url}/webhooks/rest/webhook", timeout=10, headers={
            "Origin": "https://chat.example.com", "Access-Control-Request-Method": "POST"})
        assert preflight.headers.get("Access-Control-Allow-Origin") == "https://chat.example.com"
    finally:
        secured.stop()
