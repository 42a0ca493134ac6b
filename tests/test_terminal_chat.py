"""`make chat` as a newcomer runs it: a real pseudo-terminal, typed messages, answers read off the screen."""
import os

import pexpect

from training.project import ROOT

PROMPT = "Your input ->"


def test_make_chat_answers_in_the_users_language(embedding_cache, rasa_cache, tmp_path):
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(rasa_cache), "TERM": "xterm"}
    chat = pexpect.spawn("make chat", cwd=str(ROOT), env=env, encoding="utf-8", timeout=300,
                         dimensions=(50, 200))
    chat.logfile_read = (tmp_path / "chat.log").open("w", encoding="utf-8")
    try:
        chat.expect_exact(PROMPT)
        for message, answer in [("what are your opening hours?", "We are open"),
                                ("Merhaba, nasılsın?", "Merhaba! Bugün"),
                                ("ហាងបើកម៉ោងប៉ុន្មាន?", "យើងបើកពីថ្ងៃច័ន្ទ")]:
            chat.sendline(message)
            chat.expect_exact(answer, timeout=60)
            chat.expect_exact(PROMPT, timeout=60)
        chat.sendline("/stop")
        chat.expect(pexpect.EOF, timeout=60)
    finally:
        chat.close(force=True)
