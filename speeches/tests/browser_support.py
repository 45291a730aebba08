"""What the browser tests share: how Chromium is started, screenshots, axe-core and layout checks."""

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Debian's Chromium run headless as root in CI: no sandbox, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
BLOCKING_IMPACTS = ("serious", "critical")


class Screenshots:
    """test-artifacts/<test>/<NN>-<step>.png, numbered in the order the steps ran."""

    def __init__(self, test_name):
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name).strip("_")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.count = 0

    def __call__(self, page, step):
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path


def axe_violations(page):
    """axe-core's serious and critical findings on the loaded page, one readable line each.

    Findings axe could not decide ("incomplete", e.g. the contrast of a one-glyph link) count
    too: a person would have to check them by hand on every change otherwise.
    """
    page.add_script_tag(path=AXE_SCRIPT)
    findings = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations", "incomplete"]});
            const lines = (kind, list) => list.map(v => ({
                kind, id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
            }));
            return lines("violation", result.violations)
                .concat(lines("needs review", result.incomplete));
        }"""
    )
    return [
        f"{f['impact']} {f['kind']} {f['id']}: {f['help']} at {', '.join(f['nodes'])}"
        for f in findings
        if f["impact"] in BLOCKING_IMPACTS
    ]


def sideways_overflow(page):
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def background(page, selector):
    return page.eval_on_selector(selector, "el => getComputedStyle(el).backgroundColor")
