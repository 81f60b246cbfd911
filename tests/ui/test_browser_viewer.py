"""The document viewer in Chromium: [n] and sources open the document at the quote; PDFs as rendered pages."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from served import close, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]
HOSTILE = (
    "# Gate\n\nThe castle gate opens at dawn. <script>window.__pwned = 1</script>"
    '<img src=x onerror="window.__pwned = 2">\n'
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = serve(tmp_path_factory.mktemp("viewer"))
    (server["docs"] / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    server["library"].sync()
    yield server
    close(server)


def _ask(browser: Any, url: str, question: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(url)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    wait.until(lambda b: b.execute_script("return !!window.citebotViewer"))
    box.send_keys(question, Keys.ENTER)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#chat a[href*='#cb-open?']")))
    return wait


def _opened(browser: Any, wait: Any) -> Any:
    from selenium.webdriver.common.by import By

    wait.until(
        lambda b: b.execute_script("const v = document.getElementById('cb-viewer'); return v && v.dataset.ready")
    )
    return browser.find_element(By.ID, "cb-viewer")


def _visible_in(browser: Any, element: Any, container: Any) -> bool:
    script = ("const a = arguments[0].getBoundingClientRect(), b = arguments[1].getBoundingClientRect();"
              "return a.top >= b.top && a.bottom <= b.bottom;")  # fmt: skip
    return bool(browser.execute_script(script, element, container))


def test_clicking_1_opens_the_pdf_at_the_cited_page_with_the_quote_highlighted(browser: Any, served: Any) -> None:
    from selenium.webdriver.common.by import By

    wait = _ask(browser, served["url"], "When was the new lens installed?")
    link = browser.find_element(By.CSS_SELECTOR, "#chat a[href*='#cb-open?']")
    assert link.text == "[1]"
    handles = len(browser.window_handles)
    link.click()
    viewer = _opened(browser, wait)
    assert viewer.find_element(By.CLASS_NAME, "cb-viewer-title").text == "report.pdf · p. 2"
    marks = viewer.find_elements(By.CSS_SELECTOR, ".cb-page mark.cb-hl")
    assert [m.text for m in marks] == ["The new lens was installed in March."]
    page = marks[0].find_element(By.XPATH, "ancestor::div[@class='cb-page']")
    assert page.get_attribute("data-page") == "2" and page.find_element(By.TAG_NAME, "canvas").size["width"] > 300
    assert _visible_in(browser, marks[0], viewer.find_element(By.CLASS_NAME, "cb-viewer-body")), "scrolled to it"
    assert len(browser.window_handles) == handles, "no new tab"
    rendered = browser.execute_script(
        "const c = arguments[0]; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let ink = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) ink++; return ink;",
        page.find_element(By.TAG_NAME, "canvas"),
    )
    assert rendered > 200, "the page is drawn, not blank"
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any("/viewer/pdfjs/pdf.worker.min.mjs" in u for u in loaded), "pdf.js and its worker come from citebot"
    assert all(u.startswith(served["url"]) for u in loaded), [u for u in loaded if not u.startswith(served["url"])]
    shot = served["docs"].parent / "viewer.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    if os.environ.get("CITEBOT_README_SCREENSHOT"):  # CITEBOT_README_SCREENSHOT=docs/viewer.png refreshes the README's
        shutil.copy(shot, os.environ["CITEBOT_README_SCREENSHOT"])


def test_a_quote_across_a_page_break_is_highlighted_on_both_pages(browser: Any, served: Any) -> None:
    from selenium.webdriver.common.by import By

    text = _loaded(served, "report.pdf")
    start, end = text.index("Keepers logged"), text.index("by name.") + len("by name.")
    wait = _ask(browser, served["url"], "When was the new lens installed?")
    browser.execute_script("window.citebotViewer.open({source: 'report.pdf', start: arguments[0], end: arguments[1],"
                           "location: 'p. 2-3'})", start, end)  # fmt: skip
    viewer = _opened(browser, wait)
    marked = {
        m.find_element(By.XPATH, "ancestor::div[@class='cb-page']").get_attribute("data-page"): m.text
        for m in viewer.find_elements(By.CSS_SELECTOR, ".cb-page mark.cb-hl")
    }
    assert marked == {"2": "Keepers logged", "3": "every passing ship by name."}


def test_related_passages_of_a_refusal_open_too_across_pages(browser: Any, served: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(served["url"])
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))
    box.send_keys("Who wrote Hamlet?", Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "sources"), "Related, not an answer"))
    link = browser.find_element(By.XPATH, "//div[@id='sources']//a[@class='cb-open' and contains(., 'report.pdf')]")
    link.click()
    viewer = _opened(browser, wait)
    pages = {m.find_element(By.XPATH, "ancestor::div[@class='cb-page']").get_attribute("data-page")
             for m in viewer.find_elements(By.CSS_SELECTOR, ".cb-page mark.cb-hl")}  # fmt: skip
    assert pages == {"1", "2", "3"}, "the passage spans the whole three-page report"


def test_other_formats_show_the_loaded_text_with_the_quote_marked(browser: Any, served: Any) -> None:
    from selenium.webdriver.common.by import By

    wait = _ask(browser, served["url"], "How do I install the lighthouse tools on Linux?")
    browser.find_element(By.CSS_SELECTOR, "#sources a.cb-open").click()  # the source link opens it too
    viewer = _opened(browser, wait)
    assert viewer.find_element(By.CLASS_NAME, "cb-viewer-title").text == "guide.md · Guide › Installation › Linux"
    mark = viewer.find_element(By.CSS_SELECTOR, ".cb-text mark.cb-hl")
    assert mark.text == "Run apt to install the lighthouse tools."
    assert viewer.find_element(By.CLASS_NAME, "cb-text").text.startswith("# Guide")
    viewer.find_element(By.CLASS_NAME, "cb-viewer-close").click()
    assert not viewer.is_displayed()


def test_document_text_in_the_viewer_stays_text(browser: Any, served: Any) -> None:
    from selenium.webdriver.common.by import By

    wait = _ask(browser, served["url"], "When does the castle gate open?")
    browser.find_element(By.CSS_SELECTOR, "#chat a[href*='#cb-open?']").click()
    viewer = _opened(browser, wait)
    assert "<script>window.__pwned = 1</script>" in viewer.find_element(By.CLASS_NAME, "cb-text").text
    assert not viewer.find_elements(By.CSS_SELECTOR, "script, img")
    assert browser.execute_script("return window.__pwned === undefined")


def _loaded(served: Any, name: str) -> str:
    from index.documents.loader import load_file

    return load_file(served["docs"] / name, name).text
