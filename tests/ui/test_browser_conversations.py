"""Saved conversations in Chromium: ask, follow up, reload (listed, resumed, a follow-up answered from the stored
history), a second tab, new chat, search, rename, delete with confirmation, hostile titles as text, and a second
user who sees none of the first's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes import HashingEmbedder, hashing_settings, write_docs
from served import free_port

from bot.chats.store import ConversationStore
from bot.types import Answer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERS = [("ann", "s3cret"), ("bob", "hunter2")]
DOCS = {
    "animals.txt": "Dogs bark at strangers at night. Dogs bark because they guard their home.\n"
    "Cats sleep for most of the day. Cats sleep about sixteen hours.",
    "guide.md": "# Guide\n\n## Installation\n\n### Linux\n\nRun apt to install the lighthouse tools.\n",
}
HOSTILE = "<b>bold</b> **stars** do dogs bark?"


class Recording:
    """The Bot, remembering the history each question was answered with."""

    def __init__(self, bot: Any) -> None:
        self.bot, self.histories = bot, []  # type: ignore[var-annotated]

    def stream(self, question: str, history: Any = ()) -> Iterator[Any]:
        self.histories.append(list(history))
        yield from self.bot.stream(question, history)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bot, name)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from bot import Bot
    from bot.library import Library
    from index.pipeline import index_paths
    from ui.serve_cli import launch

    base = tmp_path_factory.mktemp("conversations")
    docs = write_docs(base / "docs", DOCS)
    settings = hashing_settings(base / "index", docs_dir=docs)
    index_paths([docs], settings, embedder=HashingEmbedder())
    bot = Recording(Bot.load(settings.index_dir, embedder=HashingEmbedder(), settings=settings))
    app = launch(bot, host="127.0.0.1", port=free_port(), auth=USERS, block=False, settings=settings,
                 library=Library(settings, bot=bot))  # type: ignore[arg-type]  # fmt: skip
    yield {"url": f"http://127.0.0.1:{app.server_port}", "bot": bot, "store": ConversationStore(base / FILE)}
    app.close()


FILE = "conversations.sqlite3"  # beside the index folder, by default


def log_in(browser: Any, url: str, user: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{url}/login")  # any page of the server, for the cookie's origin
    browser.execute_async_script(
        "const done = arguments[2]; fetch('/login', {method: 'POST', credentials: 'include', body: new "
        "URLSearchParams({username: arguments[0], password: arguments[1]})}).then(() => done());",
        user,
        dict(USERS)[user],
    )


def open_page(browser: Any, url: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 90)
    browser.get(url)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    return wait


def ask(browser: Any, wait: Any, store: ConversationStore, question: str, *, turns: int) -> str:
    """Ask in the page; wait until the open conversation holds `turns` turns and the URL names it; its id."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.find_element(By.CSS_SELECTOR, "#question textarea").send_keys(question, Keys.ENTER)
    wait.until(lambda d: "?c=" in d.current_url and _turns(store, d.current_url) == turns)
    wait.until(lambda d: question.split()[-1] in d.find_element(By.ID, "chat").text)
    return str(browser.current_url.split("?c=")[1])


def _turns(store: ConversationStore, url: str) -> int:
    cid = url.split("?c=")[1]
    return next((s.turns for s in store.list("ann") if s.id == cid), 0)


def listed(browser: Any) -> list[str]:
    """The titles in the conversation list ([] while Gradio redraws it)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return [label.text for label in browser.find_elements(By.CSS_SELECTOR, "#conv-list label")]
    except StaleElementReferenceException:
        return []


def confirm_delete(browser: Any) -> Any:
    """Click Delete until its confirmation shows (a click while the last one's event still runs is dropped)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    for _ in range(20):
        browser.find_element(By.ID, "conv-delete").click()
        try:
            return WebDriverWait(browser, 3).until(ec.alert_is_present())
        except TimeoutException:
            continue
    raise AssertionError("Delete asked for no confirmation")


def test_conversations_are_saved_listed_resumed_renamed_searched_deleted_per_user(
    browser: Any, site: dict[str, Any]
) -> None:  # noqa: E501
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, store, bot = site["url"], site["store"], site["bot"]
    log_in(browser, url, "ann")
    wait = open_page(browser, url)
    cid = ask(browser, wait, store, "When do dogs bark?", turns=1)
    assert ask(browser, wait, store, "Why do they bark?", turns=2) == cid  # a follow-up: the same conversation

    browser.refresh()  # the page comes back to it: listed, its turns shown, and a follow-up uses them
    wait = open_page(browser, browser.current_url)
    wait.until(lambda d: "Why do they bark?" in d.find_element(By.ID, "chat").text)
    assert "When do dogs bark?" in browser.find_element(By.ID, "chat").text and listed(browser) == [
        "When do dogs bark?"
    ]
    assert ask(browser, wait, store, "And at night?", turns=3) == cid
    history = bot.histories[-1]
    assert [q for q, _ in history] == ["When do dogs bark?", "Why do they bark?"]
    assert all(isinstance(a, Answer) for _, a in history), "the history came from the store, not the page"
    link = browser.find_element(By.CSS_SELECTOR, "#conv-notice a[href$='/export']").get_attribute("href")
    markdown = browser.execute_async_script(
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(arguments[1])", link
    )
    assert markdown.startswith("# When do dogs bark?") and "## 3. And at night?" in markdown

    browser.switch_to.new_window("tab")  # a second tab on the same address shows the same conversation
    open_page(browser, f"{url}/?c={cid}").until(lambda d: "And at night?" in d.find_element(By.ID, "chat").text)
    browser.get("about:blank")
    browser.get(f"{url}/?c={cid}#cb-open?source=animals.txt&start=0&end=32")  # an exported source link
    wait.until(
        lambda d: d.execute_script("const v = document.getElementById('cb-viewer'); return v && v.dataset.ready")
    )
    assert browser.find_element(By.CSS_SELECTOR, "#cb-viewer mark").text == "Dogs bark at strangers at night."
    browser.close()
    browser.switch_to.window(browser.window_handles[0])

    browser.find_element(By.ID, "new-chat").click()
    wait.until(lambda d: "?c=" not in d.current_url and "When do dogs" not in d.find_element(By.ID, "chat").text)
    linux = ask(browser, wait, store, "How do I install on Linux?", turns=1)
    hostile = (
        ask(browser, wait, store, HOSTILE, turns=1) if browser.find_element(By.ID, "new-chat").click() is None else ""
    )
    assert linux != cid != hostile
    wait.until(lambda d: listed(d) == [HOSTILE, "How do I install on Linux?", "When do dogs bark?"])  # newest first
    assert not browser.find_elements(By.CSS_SELECTOR, "#conv-list b, #chat b")  # titles and questions are text

    search = browser.find_element(By.CSS_SELECTOR, "#conv-search textarea, #conv-search input")
    search.send_keys("linu")  # words of questions and answers, as prefixes
    wait.until(lambda d: listed(d) == ["How do I install on Linux?"])
    search.send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    wait.until(lambda d: len(listed(d)) == 3)

    browser.find_element(By.XPATH, "//*[@id='conv-list']//label[contains(., 'When do dogs bark?')]").click()
    wait.until(lambda d: d.current_url.endswith(f"?c={cid}") and "And at night?" in d.find_element(By.ID, "chat").text)
    browser.find_element(By.XPATH, "//*[@id='conv-manage']//button[contains(., 'Rename or delete')]").click()
    title = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#conv-title textarea, #conv-title input")))
    title.send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    title.send_keys("Barking dogs")
    browser.find_element(By.ID, "conv-rename").click()
    wait.until(lambda d: "Barking dogs" in listed(d))

    confirm_delete(browser).dismiss()  # declined: nothing happens
    assert any(s.id == cid for s in store.list("ann"))
    confirm_delete(browser).accept()
    wait.until(lambda d: "Barking dogs" not in listed(d) and "?c=" not in d.current_url)
    assert [s.id for s in store.list("ann")] == [hostile, linux]

    log_in(browser, url, "bob")  # another user: none of ann's, not even by its address
    wait = open_page(browser, f"{url}/?c={linux}")
    wait.until(lambda d: d.find_element(By.ID, "conv-list").is_displayed())
    assert listed(browser) == [] and "Linux" not in browser.find_element(By.ID, "chat").text
    browser.find_element(By.CSS_SELECTOR, "#question textarea").send_keys("When do cats sleep?", Keys.ENTER)
    wait.until(lambda d: len(store.list("bob")) == 1)
    wait.until(lambda d: listed(d) == ["When do cats sleep?"])
    assert [s.id for s in store.list("ann")] == [hostile, linux]
