"""Screenshots of a running storefront and dashboard for the README (docs/img/storefront.png, dashboard.png).

Start the demo first (``shelfwise demo``), then::

    python scripts/web_screenshots.py --url http://127.0.0.1:8000 --out docs/img

It drives the system chromium (``--chromium``, default ``chromium`` on PATH) with Playwright: picks a demo
shopper, searches with a price constraint, opens the dashboard on that shopper.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

log = logging.getLogger("web_screenshots")


def main() -> None:
    """Take the two README screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the running app")
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="folder for the PNG files")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--query", default="tape under $10", help="the storefront search shown")
    parser.add_argument("--shopper", type=int, default=1, help="which demo shopper of the picker (1 = first)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860}, base_url=args.url)
        page.goto("/shop")
        user = page.locator("#shopper option").nth(args.shopper).get_attribute("value")
        with page.expect_navigation():
            page.select_option("#shopper", user)
        page.goto(f"/shop/search?q={args.query}")
        page.screenshot(path=str(args.out / "storefront.png"))
        page.goto("/admin")
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.locator("#profile").scroll_into_view_if_needed()
        page.screenshot(path=str(args.out / "dashboard.png"), full_page=False)
        browser.close()
    log.info("wrote %s and %s", args.out / "storefront.png", args.out / "dashboard.png")


if __name__ == "__main__":
    main()
