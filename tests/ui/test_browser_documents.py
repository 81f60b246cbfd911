"""The Documents tab in Chromium: the list, remove with confirmation, replace by name, and --watch changes shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from served import close, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = serve(tmp_path_factory.mktemp("docs-tab"), watch=True)
    yield server
    close(server)


def _open_tab(browser: Any, url: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(url)
    tab = wait.until(ec.element_to_be_clickable((By.XPATH, "//button[@role='tab' and contains(., 'Documents')]")))
    tab.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "doc-table"), "report.pdf"))
    return wait


def _pick(browser: Any, wait: Any, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#doc-pick input")))
    box.click()
    option = f"//li[@role='option' and @aria-label='{name}']"
    wait.until(ec.element_to_be_clickable((By.XPATH, option))).click()


def test_documents_tab_lists_removes_with_confirm_and_replaces(browser: Any, watched: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = _open_tab(browser, watched["url"])
    table = browser.find_element(By.ID, "doc-table").text
    assert "animals.txt" in table and "guide.md" in table and "pdf" in table

    _pick(browser, wait, "animals.txt")
    browser.find_element(By.ID, "doc-remove").click()
    wait.until(ec.alert_is_present()).dismiss()  # cancelled: nothing happens
    wait.until(ec.text_to_be_present_in_element_value((By.CSS_SELECTOR, "#doc-status textarea"), "Nothing removed"))
    assert (watched["docs"] / "animals.txt").exists()

    _pick(browser, wait, "animals.txt")
    browser.find_element(By.ID, "doc-remove").click()
    alert = wait.until(ec.alert_is_present())
    assert "Remove animals.txt" in alert.text
    alert.accept()
    wait.until(ec.text_to_be_present_in_element_value((By.CSS_SELECTOR, "#doc-status textarea"), "Removed animals"))
    assert not (watched["docs"] / "animals.txt").exists()
    wait.until(lambda b: "animals.txt" not in b.find_element(By.ID, "doc-table").text)

    new = Path(watched["docs"].parent / "guide.md")
    new.write_text("# Guide\n\nPress the red button to start the lamp.\n", encoding="utf-8")
    browser.find_element(By.CSS_SELECTOR, "#doc-upload input[type=file]").send_keys(str(new))
    wait.until(ec.text_to_be_present_in_element_value((By.CSS_SELECTOR, "#doc-status textarea"), "Replaced guide.md"))
    assert "red button" in (watched["docs"] / "guide.md").read_text(encoding="utf-8")
    answer = watched["library"].bot.answer("How do I start the lamp with the red button?")
    assert answer.citations[0].source == "guide.md" and "red button" in answer.text


def test_watch_shows_files_added_and_deleted_in_the_folder(browser: Any, watched: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    wait = _open_tab(browser, watched["url"])
    (watched["docs"] / "owls.txt").write_text("Owls hunt at night.", encoding="utf-8")
    wait.until(lambda b: "owls.txt" in b.find_element(By.ID, "doc-table").text)
    assert watched["library"].bot.answer("When do owls hunt?").citations[0].source == "owls.txt"
    (watched["docs"] / "owls.txt").unlink()
    wait.until(lambda b: "owls.txt" not in b.find_element(By.ID, "doc-table").text)
