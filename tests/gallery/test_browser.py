"""The web gallery in a real browser (Debian's Chromium, driven by Playwright) against a real GalleryServer: posters
load, the video plays, a prompt with markup stays text, search works without JavaScript, an opt-out shows on reload,
and nothing the pages load breaks their own Content-Security-Policy.

Screenshots of the grid and a clip's page, at desktop and phone sizes, go to $GALLERY_SCREENSHOTS when it is set
(else to the test's tmp_path), for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, async_playwright

from common.gallery_paths import gallery_path, item_path
from tests.gallery.conftest import ANA, SAMPLES, XSS_PROMPT, Site, open_site
from tests.gallery.seeding import GUILD_ID, Clip
from tests.migrated import TemplateDatabase

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
TIMEOUT_MS = 10_000
# Conditions are passed as functions: an expression string would be eval()ed in the page, which its policy forbids.

if not CHROMIUM.exists():
    MISSING = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium; never `playwright install`)"
    if os.environ.get("CI") == "true":
        pytest.fail(MISSING, pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)


# One browser for the module (each test opens its own contexts), so everything here runs in the module's loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def site(tmp_path: Path, clips: tuple[Clip, ...], template_database: TemplateDatabase) -> AsyncIterator[Site]:
    """conftest's site, in the module's loop like the browser."""
    async with open_site(tmp_path, clips, template_database) as opened:
        yield opened


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GALLERY_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Watched:
    """What a page said that a visitor would not see: dialogs (a script ran) and policy violations."""

    dialogs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not self.dialogs and not self.violations


async def open_page(browser: Browser, site: Site, path: str, **context: Any) -> tuple[Page, Watched]:
    page = await (await browser.new_context(**context)).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watched = Watched()

    async def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(dialog.message)
        await dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            watched.violations.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.violations.append(str(error)))
    response = await page.goto(site.server.url + path)
    assert response is not None and response.status == 200, path
    return page, watched


async def wait_for_posters(page: Page) -> None:
    """Every poster loaded (the lazy ones too: the grid is scrolled through first)."""
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    await page.wait_for_function(
        "() => document.images.length > 0 && [...document.images].every(img => img.complete && img.naturalWidth > 0)"
    )
    await page.evaluate("window.scrollTo(0, 0)")


async def card_prompts(page: Page) -> list[str]:
    return await page.locator(".card .prompt").all_inner_texts()


async def test_the_grid_shows_every_poster_on_a_desktop_and_a_phone(browser: Browser, site: Site, shots: Path) -> None:
    path = gallery_path(await site.slug())
    for name, context in (
        ("desktop", DESKTOP),
        ("phone", PHONE),
        ("desktop-dark", {**DESKTOP, "color_scheme": "dark"}),
    ):
        page, watched = await open_page(browser, site, path, **context)
        await wait_for_posters(page)
        assert await page.locator(".card img").count() == len(SAMPLES)
        assert await page.locator(".card .badge").all_inner_texts() == ["AI-generated"] * len(SAMPLES)
        widths = await page.evaluate("[...document.querySelectorAll('.card')].map(card => card.offsetWidth)")
        assert min(widths) >= 240, widths  # no tiny posters
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= context["viewport"]["width"], f"{name}: the page scrolls sideways"
        await page.screenshot(path=shots / f"grid-{name}.png", full_page=True)
        assert watched.clean(), watched
        await page.context.close()


async def test_the_item_page_plays_its_video(browser: Browser, site: Site, shots: Path) -> None:
    path = item_path(await site.slug(), site.jobs["fox"])
    for name, context in (("desktop", DESKTOP), ("phone", PHONE)):
        page, watched = await open_page(browser, site, path, **context)
        assert await page.locator(".details .badge").inner_text() == "AI-generated"
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= context["viewport"]["width"], f"{name}: the page scrolls sideways"
        await page.wait_for_function("() => document.querySelector('video').readyState >= 1")  # its metadata
        await page.evaluate("document.querySelector('video').play()")
        await page.wait_for_function("() => document.querySelector('video').currentTime > 0.2")
        assert await page.evaluate("document.querySelector('video').error") is None
        # Paused on a frame it has, as a visitor who stopped it sees it.
        await page.evaluate("document.querySelector('video').pause()")
        await page.wait_for_function("() => document.querySelector('video').readyState >= 2")
        await page.screenshot(path=shots / f"item-{name}.png", full_page=True)
        assert watched.clean(), watched
        await page.context.close()


async def test_a_prompt_with_markup_is_shown_as_text(browser: Browser, site: Site) -> None:
    slug = await site.slug()
    page, watched = await open_page(browser, site, item_path(slug, site.jobs["xss"]), **DESKTOP)
    assert await page.locator("h1").inner_text() == XSS_PROMPT
    assert await page.locator("script").count() == 0
    await page.goto(site.server.url + gallery_path(slug))
    assert XSS_PROMPT in await card_prompts(page)
    assert watched.clean(), watched


async def test_search_finds_a_clip_by_a_word_of_its_prompt(browser: Browser, site: Site) -> None:
    page, watched = await open_page(browser, site, gallery_path(await site.slug()), **PHONE)
    await page.get_by_role("searchbox").fill("harbour")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Search").click()
    assert await card_prompts(page) == [SAMPLES["harbour"][0]]
    assert await page.get_by_role("searchbox").input_value() == "harbour"
    await page.locator(".card .poster").click()
    assert await page.locator("h1").inner_text() == SAMPLES["harbour"][0]
    assert watched.clean(), watched


async def test_a_creator_who_opted_out_is_gone_after_a_reload(browser: Browser, site: Site) -> None:
    page, watched = await open_page(browser, site, gallery_path(await site.slug()), **DESKTOP)
    assert len(await card_prompts(page)) == len(SAMPLES)
    assert await site.service.opt_out(GUILD_ID, ANA)
    await page.reload()
    anas = [prompt for prompt, user_id, _, _ in SAMPLES.values() if user_id == ANA]
    shown = await card_prompts(page)
    assert len(shown) == len(SAMPLES) - len(anas) and not set(anas) & set(shown)
    assert "Ana" not in await page.locator(".card .creator").all_inner_texts()
    await wait_for_posters(page)
    assert watched.clean(), watched
