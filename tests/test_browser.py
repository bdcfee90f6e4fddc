"""The real HTML reports in a real browser: headless Chromium via Playwright.

Each report (every stage's report and the index, built by ``make -j2 reports``
on a project copy, plus one built here from a synthetic executed notebook) is
opened from ``file://`` and must:

- load nothing from the network: every request whose URL is not ``file://``
  or ``data:`` is blocked and recorded, and the test fails if there is one;
- log no console error and raise no page error;
- have no axe-core accessibility violation of any impact (axe-core is
  injected from ``node_modules/axe-core/axe.min.js``; ``.ci/run`` installs it
  with ``npm install --no-save axe-core@4``);
- be readable on a phone: no horizontal page scroll at 390 px width.

A screenshot of the first screen of each report is saved under
``reports/screenshots/`` (desktop and phone widths).

The test is skipped, saying why, when ``/usr/bin/chromium`` (Debian package
``chromium``), Playwright or axe-core is missing. It never downloads a browser.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from evalkit import paths

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
AXE = paths.PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
SCREENSHOTS = paths.PROJECT_ROOT / "reports" / "screenshots"


def _skip_reason() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is absent: install the Debian package 'chromium' (the test never downloads a browser)"
    if importlib.util.find_spec("playwright") is None:
        return "the Python package 'playwright' is not installed in this environment"
    if not AXE.is_file():
        return f"{AXE} is absent: run `npm install --no-save axe-core@4` in the project root (.ci/run does this)"
    return None


SKIP = _skip_reason()


@pytest.fixture(scope="module")
def browser():
    if SKIP:
        pytest.skip(SKIP)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory) -> Path:
    """A report built from a synthetic executed notebook (see tests/test_htmlexport.py)."""
    if SKIP:
        pytest.skip(SKIP)
    from test_htmlexport import cached_fake_notebook

    from evalkit.report.htmlexport import render_html

    nb = cached_fake_notebook("together")
    out = tmp_path_factory.mktemp("browser") / "fixture-together.html"
    out.write_text(render_html(nb), encoding="utf-8")
    return out


def check_in_browser(browser, report: Path, *, name: str, screenshots: Path | None = None) -> dict:
    """Open ``report`` and return what was observed (console errors, network, axe, overflow).

    Screenshots go to ``screenshots`` (default ``reports/screenshots/``).
    """
    shots = screenshots or SCREENSHOTS
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file://", "data:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: None if r.url.startswith(("file://", "data:")) else blocked.append(r.url))
    page.goto(report.resolve().as_uri(), wait_until="load")
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"))
    page.add_script_tag(path=str(AXE))
    axe = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }")
    images = page.evaluate("() => Array.from(document.images).map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))")
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.screenshot(path=str(shots / f"{name}-phone.png"))
    context.close()
    return {"blocked": blocked, "errors": errors, "axe": axe, "images": images, "overflow": overflow}


def _assert_clean(seen: dict, report: Path) -> None:
    assert not seen["blocked"], f"{report} requested network URLs: {seen['blocked']}"
    assert not seen["errors"], f"{report} logged console errors: {seen['errors']}"
    bad = seen["axe"]  # none at all, of any impact (issue 14: 0 violations in both languages)
    assert not bad, f"{report} has axe-core violations:\n{json.dumps(bad, indent=1)}"
    assert all(i["ok"] for i in seen["images"]), f"{report} has images that did not load"
    assert all(i["alt"].strip() for i in seen["images"]), f"{report} has images without alt text"
    # A phone-width viewport must not scroll sideways (tables scroll inside their own region).
    assert seen["overflow"] <= 1, f"{report} is {seen['overflow']} px wider than a 390 px phone screen"


def test_fixture_report_in_chromium(browser, fixture_report):
    seen = check_in_browser(browser, fixture_report, name="fixture-together")
    _assert_clean(seen, fixture_report)
    assert len(seen["images"]) >= 4  # reach (2) + theme figures: one per theme at least


PAGES = [*paths.available_campaigns(), "index"]


@pytest.mark.parametrize("page", [*PAGES, *(f"{p}.mn" for p in PAGES)])
def test_built_report_in_chromium(browser, built_reports, page):
    # English and Mongolian (issue 14): the screenshots of the Mongolian reports, desktop and phone,
    # are reports/screenshots/<page>.mn.png and <page>.mn-phone.png.
    # The real reports of the shipped data, built by `make -j2 reports` on a
    # project copy (tests/conftest.py::built_reports).
    report = built_reports / f"{page}.html"
    assert report.is_file(), f"make reports did not write {report.name}"
    seen = check_in_browser(browser, report, name=page)
    _assert_clean(seen, report)


def test_the_checks_catch_what_they_look_for(browser, tmp_path):
    # A page that fetches from the network, logs an error and has an image without alt text:
    # the checker must see all three (otherwise a clean result would mean nothing).
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                   '<img src="https://example.invalid/x.png">'
                   '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    seen = check_in_browser(browser, bad, name="self-test-bad", screenshots=tmp_path)
    assert any("example.invalid" in u for u in seen["blocked"])
    assert any("boom" in e for e in seen["errors"])
    assert any(v["id"] == "image-alt" and v["impact"] in ("serious", "critical") for v in seen["axe"])
    assert any(v["id"] == "html-has-lang" for v in seen["axe"])


def test_skip_reason_is_explained():
    # When Chromium or axe-core is missing the module says why instead of failing.
    reason = _skip_reason()
    assert reason is None or "install" in reason or "npm" in reason


@pytest.mark.parametrize(("element", "name"), [("#tbl-tracking", "together-tracking"),
                                               ("#tbl-questionnaire", "together-questionnaire")])
def test_tracking_table_and_questionnaire_annex_are_shown(browser, built_reports, element, name):
    """Issue 19: the tracking table and the questionnaire annex are visible in Chromium;
    a screenshot of each is saved under reports/screenshots/."""
    report = built_reports / "together.html"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file://", "data:"))
                  else route.abort())
    page = context.new_page()
    page.goto(report.resolve().as_uri(), wait_until="load")
    table = page.locator(element)
    assert table.is_visible(), f"{element} is not visible in together.html"
    assert table.locator("tbody tr").count() >= 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    table.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    context.close()


def test_mongolian_cyrillic_renders_with_the_embedded_font(browser, tmp_path):
    """Issue 14: Ө ө Ү ү render in headless Chromium from the report's own font, not from the machine's.

    The page uses only the report stylesheet. The embedded family must be loaded and cover the letters
    (``document.fonts.check``), and each letter must draw a distinct glyph, unlike an unassigned code
    point (U+0378), which draws the fallback box. A screenshot is saved under reports/screenshots/.
    """
    from evalkit.report.htmlexport import report_css

    letters = ["Ө", "ө", "Ү", "ү", "Ж", "\u0378"]
    spans = "".join(f'<span id="c{i}" style="font-size:48px">{ch}</span> ' for i, ch in enumerate(letters))
    page_html = (f'<!DOCTYPE html><html lang="mn"><head><meta charset="utf-8"><title>Cyrillic</title>'
                 f"<style>{report_css()}</style></head><body><main><p>Монгол хэл: Өвөл, Үнэлгээ</p>"
                 f"<p>{spans}</p></main></body></html>")
    doc = tmp_path / "cyrillic.html"
    doc.write_text(page_html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 800, "height": 300})
    page = context.new_page()
    page.goto(doc.as_uri(), wait_until="load")
    page.evaluate("() => document.fonts.ready")
    assert page.evaluate("() => document.fonts.check('48px \"Evalkit Sans\"', 'ӨөҮү')")
    loaded = page.evaluate("() => Array.from(document.fonts).filter(f => f.family.includes('Evalkit')).map(f => f.status)")
    assert "loaded" in loaded, loaded  # the regular face (the page has no bold text, so bold stays unloaded)
    shots = [page.locator(f"#c{i}").screenshot() for i in range(len(letters))]
    assert len(set(shots[:4])) == 4, "two Mongolian letters drew the same glyph"
    assert shots[-1] not in shots[:5], "a Mongolian letter drew the missing-glyph box"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cyrillic-glyphs.png"))
    context.close()


def test_fieldwork_page_in_chromium(browser, tmp_path, monkeypatch):
    """The fieldwork page (issue 20) obeys the report's rules: offline, no axe violation, fits a phone."""
    from test_fieldwork import _fieldwork_project

    from evalkit.fieldwork_page import build_fieldwork
    from evalkit.params import load_params

    _fieldwork_project(tmp_path, monkeypatch, endline=12)
    page = build_fieldwork(load_params("fixture"))
    seen = check_in_browser(browser, page, name="fixture-fieldwork")
    _assert_clean(seen, page)
