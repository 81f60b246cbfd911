"""A real browser (Debian's Chromium, driven by Selenium) asks the Ukraine question in the chat page."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_ask_in_the_browser_shows_citation_and_sources(browser, server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(server)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    assert "Why can't Ukraine join NATO?" in browser.page_source, "example questions on the start screen"
    box.send_keys("Why can't Ukraine join NATO?", Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "chat"), "territorial integrity"))
    wait.until(ec.text_to_be_present_in_element((By.ID, "sources"), "germany-lithuania-brigade.txt"))
    chat = browser.find_element(By.ID, "chat").text
    assert "[1]" in chat and "unanimous backing of all 32 NATO members" in chat
    marked = browser.find_elements(By.CSS_SELECTOR, "#sources mark")
    assert marked and "territorial integrity" in marked[0].text
    browser.save_screenshot(str(tmp_path / "chat.png"))
    assert (tmp_path / "chat.png").stat().st_size > 10_000

    box.send_keys("And when will the German unit be fully ready?", Keys.ENTER)  # a follow-up in the same session
    wait.until(ec.text_to_be_present_in_element((By.ID, "chat"), "2027"))


def test_hostile_document_shows_as_text_and_runs_no_script(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(server)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    box.send_keys("   ", Keys.ENTER)  # an empty question gets a message, not a traceback
    wait.until(ec.text_to_be_present_in_element((By.ID, "chat"), "The question is empty"))
    box.send_keys("When does the castle gate open?", Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "sources"), "hostile.md"))
    sources = browser.find_element(By.ID, "sources").text
    assert "<script>window.__pwned = 1</script>" in sources, "document HTML is shown as text"
    assert browser.execute_script("return window.__pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#sources script, #sources img, #chat img[src*='203.0.113.9']")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
