"""The course website (tools/build_site.py, `make site`): it builds, every lesson and exercise has a page,
exercise pages give nothing away, and in headless Chromium the lesson pages render their code and plots.

Slow (it executes the lessons that have no fresh executed copy): run with `--runslow` or FTCOURSE_SLOW=1;
FTCOURSE_SITE_RUN=0 builds from the lessons as they are (committed outputs) without executing any.
The browser test needs Chromium (`make site-deps` installs it) and is skipped without it.
"""
import html
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.querySelectorAll("article img")].map(i => ({
    data: i.src.startsWith("data:image"), natural: [i.naturalWidth, i.naturalHeight],
    shown: [Math.round(i.getBoundingClientRect().width), Math.round(i.getBoundingClientRect().height)]}));
  const code = document.querySelectorAll("article .jp-CodeCell .jp-InputArea pre, article .highlight pre").length;
  const out = document.createElement("pre"); out.id = "ftcourse-probe";
  out.textContent = JSON.stringify({title: document.title, imgs, code});
  document.body.appendChild(out);
});
</script>"""


def _tool(root):
    spec = importlib.util.spec_from_file_location("build_site", root / "tools" / "build_site.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def site(root, tmp_path_factory):
    tool = _tool(root)
    run = os.environ.get("FTCOURSE_SITE_RUN", "1") != "0"   # 0: use the lessons as they are, execute none
    out = tool.build(tmp_path_factory.mktemp("site") / "_site", run=run)
    return tool, out


def test_site_has_every_page(site):
    tool, out = site
    home = (out / "index.html").read_text()
    assert "fine-tuning" in home.lower()
    for nb in tool.lessons():
        page = out / "lessons" / nb.stem / "index.html"
        assert page.exists(), f"no page for {nb.name}"
        assert f"lessons/{nb.stem}/" in home, f"{nb.name} is not in the site's navigation"
    exercises = sorted((tool.ROOT / "exercises" / "source").glob("*/*.ipynb"))
    assert exercises
    for ex in exercises:
        page = out / "exercises" / ex.parent.name / ex.stem / "index.html"
        assert page.exists(), f"no page for exercise {ex}"
        text = page.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, f"{page} gives answers away"
    assert (out / "developing" / "index.html").exists()


def _plots_in(nb_path: Path) -> int:
    "How many image outputs (plots) the executed notebook that the site shows has."
    cells = json.loads(nb_path.read_text())["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
               if any(k.startswith("image/") for k in o.get("data", {})))


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (`make site-deps` installs it as root)")
def test_lesson_pages_render_code_and_plots(site, root):
    tool, out = site
    shots = root / "artifacts" / "site_screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    chrome = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--window-size=1280,4000", "--virtual-time-budget=8000"]
    failures = []
    for nb in tool.lessons():
        page = out / "lessons" / nb.stem / "index.html"
        probe = page.with_name("probe.html")
        probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
        dom = subprocess.run([*chrome, "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                             timeout=120).stdout
        subprocess.run([*chrome, f"--screenshot={shots / (nb.stem + '.png')}", page.as_uri()],
                       capture_output=True, timeout=120)
        start = dom.find('<pre id="ftcourse-probe">')
        if start < 0:
            failures.append(f"{nb.name}: the page did not finish loading"); continue
        info = json.loads(html.unescape(dom[start + len('<pre id="ftcourse-probe">'):dom.index("</pre>", start)]))
        plots = [i for i in info["imgs"] if i["data"]]
        drawn = [i for i in plots if min(i["natural"]) > 0 and min(i["shown"]) > 0]
        expected = _plots_in(tool.SRC / "docs" / "lessons" / nb.name)
        print(f"{nb.stem}: {info['code']} code blocks, {len(drawn)}/{expected} plots drawn")
        if info["code"] == 0: failures.append(f"{nb.name}: no code blocks rendered")
        if len(drawn) < expected: failures.append(f"{nb.name}: {len(drawn)} of {expected} plots drawn")
    assert any(_plots_in(tool.SRC / "docs" / "lessons" / nb.name) for nb in tool.lessons()), \
        "no lesson on the site has a plot: were the lessons executed?"
    assert not failures, "\n".join(failures)
