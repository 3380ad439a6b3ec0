"""The HTML report in a real browser (headless Chromium from Debian's `chromium` package).

Skipped where Chromium is absent. Checks: the screenshot is not blank, the console shows
no errors (the report has no scripts and a strict Content-Security-Policy), and at 375 px
nothing outside code blocks is wider than the viewport.
"""
from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import grade
from grader.results import render as report
from test_reports import HOSTILE_EX1, handmade

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]

# Headless Chromium will not make its window narrower than 500 px, so the report is laid out
# in a 375 px iframe (srcdoc: same origin, so the wrapper can measure inside it).
WRAPPER = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="frame" style="width:375px;height:900px;border:0" srcdoc="%s"></iframe>
<script>
window.addEventListener('load', () => {
  const doc = document.getElementById('frame').contentDocument;
  const vw = doc.documentElement.clientWidth;
  const wide = [];
  for (const el of doc.querySelectorAll('body *')) {
    if (el.closest('pre')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  const out = document.createElement('div');
  out.id = 'probe-result';
  out.textContent = JSON.stringify({vw: vw, scroll: doc.documentElement.scrollWidth, wide: wide});
  document.body.appendChild(out);
});
</script></body></html>"""


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB/RGBA PNG, filters undone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = bytes(line)
    return width, height, rows


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line
            or "Content Security Policy" in line or "Refused to" in line]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "exercise1.py"
    path.write_text(HOSTILE_EX1, encoding="utf-8")
    return {"handmade": report.render_format("html", handmade()),
            "hostile": report.render_format("html", grade(path, seed=7))}


@pytest.mark.parametrize("name", ["handmade", "hostile"])
def test_screenshot_is_not_blank_and_console_is_clean(name: str, pages: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(pages[name], encoding="utf-8")
    shot = tmp_path / "shot.png"
    run = chromium(tmp_path, "--window-size=375,1600", f"--screenshot={shot}", "--enable-logging=stderr", "--v=0",
                   page.as_uri())
    assert shot.exists(), run.stderr[-2000:]
    width, height, rows = png_pixels(shot.read_bytes())
    assert width >= 375 and height >= 400
    colours = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 21)}
    assert len(colours) > 20, "the screenshot is (almost) blank"
    background = b"\xff\xff\xff"
    inked = sum(row[i:i + 3] != background for row in rows for i in range(0, len(row), 3 * 5))
    assert inked > 0.01 * width * height / 5
    assert console_errors(run.stderr) == []


@pytest.mark.parametrize("name", ["handmade", "hostile"])
def test_nothing_outside_code_blocks_scrolls_sideways_at_375px(name: str, pages: dict[str, str],
                                                               tmp_path: Path) -> None:
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", pages[name])
    page = tmp_path / "probe.html"
    page.write_text(WRAPPER % htmllib.escape(html, quote=True), encoding="utf-8")
    run = chromium(tmp_path, "--window-size=800,1000", "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    match = re.search(r'<div id="probe-result">(.*?)</div>', run.stdout)
    assert match, run.stderr[-2000:]
    result = json.loads(htmllib.unescape(match.group(1)))
    assert 300 <= result["vw"] <= 375
    assert result["wide"] == [], result
    assert result["scroll"] <= result["vw"], result
