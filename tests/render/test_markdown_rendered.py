"""The pull-request comment as a reviewer sees it (issue 16): the Markdown of a 1,000-project
plan rendered to HTML (markdown-it with GitHub's table extension) and laid out by headless
Chromium in a GitHub-sized comment column. It stays within 60,000 characters, the access impact
is in the first screen, nothing of the impact or of the changes shown once runs past the right
edge, and a screenshot is kept as a test artifact (``build/test-artifacts/``).

Chromium is required (`.ci/run` installs Debian's `chromium`): without it these tests fail."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from large_plans import thousand_project_plan
from markdown_it import MarkdownIt

from reconciler.impact import Impact
from reconciler.plan.build import Plan
from reconciler.render import render_markdown

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
WIDTH, HEIGHT = 1280, 2000
SCREEN = 900  # what a reviewer sees before scrolling, in CSS pixels
# GitHub's comment column: ~880 px of body text, 14 px sans-serif, 12 px monospace code; tables
# are blocks that scroll sideways when too wide (so a too-wide table is cut at the right edge).
STYLE = """
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
       width: 880px; margin: 16px auto; color: #1f2328; background: #fff; }
code, pre { font: 12px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
code { background: #eff1f3; padding: .2em .4em; border-radius: 6px; white-space: break-spaces; }
pre { background: #f6f8fa; padding: 16px; overflow: auto; }
pre code { background: none; padding: 0; white-space: pre; }
table { display: block; max-width: 100%; overflow: auto; border-collapse: collapse; }
td, th { border: 1px solid #d1d9e0; padding: 6px 13px; }
blockquote { margin: 0; padding: 0 1em; border-left: .25em solid #9a6700; }
"""
# Measured after layout and written into the page, read back from --dump-dom.
MEASURE = """
<script>
const rect = el => el.getBoundingClientRect();
const headline = [...document.querySelectorAll('strong')]
  .find(s => s.textContent.startsWith('Access changes'));
const tables = [...document.querySelectorAll('table')];
const impact = tables.find(t => t.querySelector('th').textContent === 'Who');
const shared = [...document.querySelectorAll('pre')][0];
const wide = el => el && el.scrollWidth > el.clientWidth + 1;
document.getElementById('measure').textContent = JSON.stringify({
  headlineTop: headline ? rect(headline).top + scrollY : null,
  impactTop: impact ? rect(impact).top + scrollY : null,
  impactIsFirstTable: impact === tables[0],
  impactTooWide: wide(impact),
  sharedTooWide: wide(shared),
  sharedFirstLine: shared ? shared.textContent.split('\\n')[0] : null,
  details: document.querySelectorAll('details').length,
  summaries: document.querySelectorAll('details > summary').length,
  rawTables: [...document.querySelectorAll('p')].filter(p => p.textContent.startsWith('|')).length,
  rawFences: document.body.innerText.includes('```'),
});
</script>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "headless Chromium is needed to check the rendered comment: "
            "apt-get install -y chromium (`.ci/run` does)"
        )
    return found


def run_chromium(page: Path, profile: Path, *extra: str) -> str:
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@cache
def large() -> tuple[Plan, Impact, str]:
    plan, impact = thousand_project_plan()
    return plan, impact, render_markdown(plan, impact=impact)


def html_page(markdown: str) -> str:
    body = MarkdownIt("commonmark").enable("table").render(markdown)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head>"
        f"<body>{body}<pre id='measure' hidden></pre>{MEASURE}</body></html>"
    )


class _Measure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = ("id", "measure") in attrs

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        self.inside = False


def test_the_1000_project_comment_fits_with_the_impact_first() -> None:
    plan, impact, text = large()
    assert len(plan.projects()) == 1020
    assert len(text) <= 60_000
    assert "**Truncated**" in text
    order = [
        text.index("**Plan: "),
        text.index("**Access changes: "),
        text.index("> [!WARNING]"),
        text.index("| Who | Gains | Loses | Where |"),
        text.index("| Project | Add | Change | Remove |"),
        text.index("**Identical in several projects**"),
        text.index("<details>"),
    ]
    assert order == sorted(order)
    # New and deleted projects: counted in the headline, first in the (capped) table.
    assert "in 1020 project(s) (20 new, 5 deleted)." in text
    table = text[text.index("| Project | Add |") :].splitlines()
    assert all(row.endswith("| **deleted** |") for row in table[2:7])
    assert table[2].startswith("| `PRJ-0995` |")
    assert all(row.endswith("| **new** |") for row in table[7:27])
    assert not table[27].endswith("**new** |")
    # The shared role change: once, with all its projects counted.
    assert text.count("~ update role 'Engineer'") == 1
    assert "~ update role 'Engineer' in 995 projects" in text
    # Identical flags are one line naming a few: the outsiders do not hide the owner changes.
    warning = text[text.index("> [!WARNING]") : text.index("| Who |")].splitlines()
    assert warning[1] == (
        "> - 100 people outside the organization gain `administration_invite_member`, "
        "`administration_remove_member`: guest0000@partner.example (`PRJ-0000`), "
        "guest0010@partner.example (`PRJ-0010`), guest0020@partner.example (`PRJ-0020`) "
        "and 97 more"
    )
    assert warning[2].startswith("> - alice@contoso.com is no longer an owner in 25 projects")
    assert warning[3].startswith("> - 21 people become owners: alice@contoso.com (`PRJ-1000`, ")
    assert impact.counts()["lose"] > 0


def test_the_rendered_comment_reads_well_and_is_kept_as_a_screenshot(tmp_path: Path) -> None:
    _, _, text = large()
    page = tmp_path / "comment.html"
    page.write_text(html_page(text), encoding="utf-8")
    parser = _Measure()
    parser.feed(run_chromium(page, tmp_path / "profile-dom", "--dump-dom"))
    measured = json.loads(parser.text)
    assert measured["headlineTop"] is not None
    assert measured["headlineTop"] < 200
    assert measured["impactIsFirstTable"]
    assert measured["impactTop"] < SCREEN
    assert not measured["impactTooWide"]
    assert not measured["sharedTooWide"]
    assert measured["sharedFirstLine"].startswith("~ update role 'Engineer' in 995 projects")
    assert measured["details"] == measured["summaries"] > 0
    assert measured["rawTables"] == 0
    assert not measured["rawFences"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "plan-comment-1000-projects.png"
    shot.unlink(missing_ok=True)
    run_chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}")
    shutil.copy(page, ARTIFACTS / "plan-comment-1000-projects.html")
    width, height, ink = png_ink(shot.read_bytes(), rows=SCREEN)
    assert (width, height) == (WIDTH, HEIGHT)
    assert ink > 0.02  # the first screen holds text and tables, not a blank page


def png_ink(data: bytes, rows: int) -> tuple[int, int, float]:
    """Width, height and the share of clearly non-white pixels in the first ``rows`` rows of
    an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            channels = {2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    dark = 0
    for y in range(min(rows, height)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        dark += sum(1 for x in range(0, stride, channels) if line[x] < 160)
        previous = line
    return width, height, dark / (width * min(rows, height))
