"""The regression workflow in Chromium: save answers from the page as tests (👍/👎, the flag, or the closed Save as test
section), and open the HTML eval report."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks.eval import load_question_set
from ui.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _ask(browser, wait, question: str, expect: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    box.send_keys(question, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "chat"), expect))
    wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, "#chat .generating, #chat .pending"))


def _feedback(browser, wait, label: str, answer: int, status: str) -> None:  # type: ignore[no-untyped-def]
    """Click a feedback button (Like, Dislike, Feedback) under the `answer`-th answer; wait for the save status."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    buttons = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#chat button[aria-label='{label}']"))
    buttons[answer].click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "save-status"), status))


def test_save_from_the_page_then_eval_passes(browser, served, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    server, bot = served
    saved = Path(bot.stored.manifest["roots"][0]) / "questions" / "saved.yaml"
    saved.unlink(missing_ok=True)  # the server's documents are a copy of seeds/, maybe with a saved set of your own
    wait = WebDriverWait(browser, 60)
    browser.get(server)
    _ask(browser, wait, "Why can't Ukraine join NATO?", "territorial integrity")
    _feedback(browser, wait, "Like", 0, "Saved test: why-can")  # 👍 saves it

    _ask(browser, wait, "And when will the German unit be fully ready?", "2027")  # a follow-up: saved with its turns
    form = "#essential textarea, #essential input"
    shown = [e for e in browser.find_elements(By.CSS_SELECTOR, form) if e.is_displayed()]
    assert shown == [], "the test-writing form is in a closed section, not under every chat"
    browser.find_element(By.CSS_SELECTOR, "#save-test-section .label-wrap").click()  # one click opens it
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, form))).send_keys("2027")
    browser.find_elements(By.CSS_SELECTOR, "#chat button[aria-label='Feedback']")[1].click()
    options = "//*[@id='chat']//button[text()='Save as test']"  # one per answer; only the opened menu's is shown
    wait.until(lambda b: [o for o in b.find_elements(By.XPATH, options) if o.is_displayed()])[0].click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "save-status"), "Saved test: and-when"))

    _ask(browser, wait, "Who wrote the play Hamlet?", "Not in the documents")  # a refusal, saved by the button
    browser.find_element(By.CSS_SELECTOR, "#save-test").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "save-status"), "Saved test: who-wrote"))
    _feedback(browser, wait, "Dislike", 0, "Saved as wrong")  # 👎 on the first answer: a note, no expectations

    ukraine, follow_up, hamlet, wrong = load_question_set(saved)
    assert ukraine.turns == ("Why can't Ukraine join NATO?",) and "territorial" in ukraine.expect.contains_any
    assert follow_up.turns == (*ukraine.turns, "And when will the German unit be fully ready?")
    assert follow_up.expect.contains_any == ("2027",) and follow_up.expect.sources == ("germany-lithuania-brigade.txt",)
    assert hamlet.turns[-1] == "Who wrote the play Hamlet?" and hamlet.expect.refusal is True
    assert wrong.turns == ukraine.turns and wrong.note.startswith("Marked wrong") and not wrong.checked
    capsys.readouterr()
    assert main(["eval", str(saved), "--index-dir", str(bot.settings.index_dir)]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS ") == 3 and out.count("UNCHECKED ") == 1 and "3/4 passed, 0 failed, 1 unchecked" in out


HOSTILE = "The castle gate opens at dawn. <script>window.__pwned = 1</script><img src='http://203.0.113.9/p.png'>\n"
SET = "- id: gate\n  question: When does the castle gate open?\n  expect: {contains_any: [%s], sources: [gate.md]}\n"


@pytest.mark.usefixtures("hashing_model")
def test_html_report_renders_with_no_script_errors_and_no_network(browser, docs_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    (docs_dir / "gate.md").write_text(HOSTILE, encoding="utf-8")
    ix, qs = str(tmp_path / "ix"), tmp_path / "set.yaml"
    assert main(["index", str(docs_dir), "--index-dir", ix, "-q"]) == 0
    qs.write_text(SET % "dawn", encoding="utf-8")
    assert main(["eval", str(qs), "--index-dir", ix, "--report", str(tmp_path / "old.json")]) == 0
    qs.write_text(SET % "dusk", encoding="utf-8")  # the deliberate regression
    page = tmp_path / "report.html"
    argv = ["eval", str(qs), "--index-dir", ix, "--compare", str(tmp_path / "old.json"), "--html", str(page)]
    assert main(argv) == 1

    browser.get(page.as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "citebot eval: 0/1 passed"
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart svg rect.bar")) == 2, "latency and pass-rate bars"
    assert "regressed" in browser.find_element(By.CSS_SELECTOR, "table:nth-of-type(2)").text
    marks = browser.find_elements(By.CSS_SELECTOR, "details[open] .side mark")
    assert len(marks) == 2 and "<script>window.__pwned = 1</script>" in marks[1].text, "before and after, as text"
    assert browser.execute_script("return window.__pwned === undefined && document.scripts.length === 0")
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0, "nothing fetched"
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    browser.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 10_000
