"""The course website (tools/build_site.py, `make site`): it builds, every lesson and exercise has a page,
exercise pages give nothing away, pages load nothing from the network, and in headless Chromium the lesson
pages render their code, plots and math (no raw `$...$` left).

Slow (it executes the lessons that have no fresh executed copy): run with `--runslow` or FTCOURSE_SLOW=1;
FTCOURSE_SITE_RUN=0 builds from the lessons as they are (committed outputs) without executing any;
FTCOURSE_SITE_LESSONS="04 07" builds the site with those lessons only (stems or their starts);
FTCOURSE_SITE_DIR=_site checks a site already built (`make site`) instead of building one: what
.github/workflows/site.yml does before it publishes.
The browser test needs Chromium (`make site-deps` installs it) and is skipped without it.
"""
import re
import html
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROBE = r"""<script>
function ftcourseRawMath() {
  // TeX left as text in Markdown cells and pages (code, and math MathJax typeset, do not count)
  const skip = "code, pre, script, style, .MathJax, .MathJax_Display, .MathJax_Preview, .MJX_Assistive_MathML";
  const found = [];
  for (const el of document.querySelectorAll("article .jp-MarkdownOutput, article > p, article li")) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT,
      {acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    let text = ""; while (walker.nextNode()) text += walker.currentNode.nodeValue;
    for (const m of text.matchAll(/\$[^$\n]+\$|\\\(|\\\[/g)) found.push(m[0].slice(0, 60));
  }
  return found;
}
function ftcourseProbe() {
  const imgs = [...document.querySelectorAll("article img")].map(i => ({
    data: i.src.startsWith("data:image"), natural: [i.naturalWidth, i.naturalHeight],
    shown: [Math.round(i.getBoundingClientRect().width), Math.round(i.getBoundingClientRect().height)]}));
  const code = document.querySelectorAll("article .jp-CodeCell .jp-InputArea pre, article .highlight pre").length;
  const math = document.querySelectorAll("article .MathJax, article .MathJax_Display").length;
  const mathErrors = document.querySelectorAll("article .MathJax .merror, article .MathJax [class*=merror]").length;
  const out = document.createElement("pre"); out.id = "ftcourse-probe";
  out.textContent = JSON.stringify({title: document.title, imgs, code, math, mathErrors, raw: ftcourseRawMath(),
                                    mathjax: !!(window.MathJax && window.MathJax.Hub)});
  document.body.appendChild(out);
}
window.addEventListener("load", () => {
  // after MathJax's first typesetting, when it is there; at once otherwise (raw TeX is then what readers see)
  if (!(window.MathJax && window.MathJax.Hub)) ftcourseProbe();
  else if (MathJax.isReady) MathJax.Hub.Queue(ftcourseProbe);
  else MathJax.Hub.Register.StartupHook("End", () => MathJax.Hub.Queue(ftcourseProbe));
});
</script>"""


def _tool(root):
    spec = importlib.util.spec_from_file_location("build_site", root / "tools" / "build_site.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ONLY = os.environ.get("FTCOURSE_SITE_LESSONS", "").split() or None   # a reduced set of lessons, or all


@pytest.fixture(scope="module")
def site(root, tmp_path_factory):
    tool = _tool(root)
    if os.environ.get("FTCOURSE_SITE_DIR"):                  # the site that is about to be published
        built = Path(os.environ["FTCOURSE_SITE_DIR"]).resolve()
        assert (built / "index.html").is_file(), f"FTCOURSE_SITE_DIR={built}: no site there (run `make site`)"
        return tool, built
    run = os.environ.get("FTCOURSE_SITE_RUN", "1") != "0"   # 0: use the lessons as they are, execute none
    out = tool.build(tmp_path_factory.mktemp("site") / "_site", run=run, only=ONLY)
    return tool, out


def test_site_has_every_page(site):
    tool, out = site
    home = (out / "index.html").read_text()
    assert "fine-tuning" in home.lower()
    for nb in tool.lessons(ONLY):
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


def test_site_loads_nothing_from_the_network(site):
    "Every script and style sheet of every page is the site's own (math included): the site works offline."
    tool, out = site
    remote = re.compile(r"""\b(?:src|href)=["'](?:https?:)?//""", re.I)
    offenders = {}
    for page in out.rglob("*.html"):
        tags = re.findall(r"<script\b[^>]*>|<link\b[^>]*>", page.read_text(), re.I)
        loads = [t for t in tags if remote.search(t) and not re.search(r"rel=[\"']?canonical", t, re.I)]
        if loads: offenders[str(page.relative_to(out))] = loads[:3]
    assert not offenders, offenders
    assert (out / "assets" / "mathjax" / "MathJax.js").exists()


def _plots_in(nb_path: Path) -> int:
    "How many image outputs (plots) the executed notebook that the site shows has."
    cells = json.loads(nb_path.read_text())["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
               if any(k.startswith("image/") for k in o.get("data", {})))


def _has_math(nb_path: Path) -> bool:
    "Whether a notebook's Markdown cells hold TeX math (`$...$`)."
    cells = json.loads(nb_path.read_text())["cells"]
    return any(re.search(r"\$[^$\n]+\$", "".join(c["source"])) for c in cells if c["cell_type"] == "markdown")


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,4000",
               "--virtual-time-budget=8000"]


def _probe(page: Path) -> dict | None:
    "Open `page` in headless Chromium with the probe; what it found (None if the page did not finish loading)."
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = subprocess.run([_chromium(), *CHROME_ARGS, "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    start = dom.find('<pre id="ftcourse-probe">')
    if start < 0: return None
    return json.loads(html.unescape(dom[start + len('<pre id="ftcourse-probe">'):dom.index("</pre>", start)]))


def _math_problems(name: str, info: dict, has_math: bool) -> list:
    problems = []
    if info["raw"]: problems.append(f"{name}: raw TeX on the page: {info['raw'][:5]}")
    if has_math and not info["math"]: problems.append(f"{name}: no math typeset (MathJax loaded: {info['mathjax']})")
    if info["mathErrors"]: problems.append(f"{name}: {info['mathErrors']} TeX errors")
    return problems


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (`make site-deps` installs it as root)")
def test_lesson_pages_render_code_and_plots(site, root):
    tool, out = site
    shots = root / "artifacts" / "site_screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    failures = []
    for nb in tool.lessons(ONLY):
        page = out / "lessons" / nb.stem / "index.html"
        info = _probe(page)
        subprocess.run([_chromium(), *CHROME_ARGS, f"--screenshot={shots / (nb.stem + '.png')}", page.as_uri()],
                       capture_output=True, timeout=120)
        if info is None:
            failures.append(f"{nb.name}: the page did not finish loading"); continue
        plots = [i for i in info["imgs"] if i["data"]]
        drawn = [i for i in plots if min(i["natural"]) > 0 and min(i["shown"]) > 0]
        expected = _plots_in(tool.SRC / "docs" / "lessons" / nb.name)
        print(f"{nb.stem}: {info['code']} code blocks, {len(drawn)}/{expected} plots drawn, {info['math']} formulas typeset")
        if info["code"] == 0: failures.append(f"{nb.name}: no code blocks rendered")
        if len(drawn) < expected: failures.append(f"{nb.name}: {len(drawn)} of {expected} plots drawn")
        failures += _math_problems(nb.name, info, _has_math(nb))
    assert any(_plots_in(tool.SRC / "docs" / "lessons" / nb.name) for nb in tool.lessons(ONLY)), \
        "no lesson on the site has a plot: were the lessons executed?"
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (`make site-deps` installs it as root)")
def test_exercise_pages_render_math(site):
    "Exercise pages with TeX in their instructions show it typeset, not as `$...$`."
    tool, out = site
    pages = [ex for ex in sorted((tool.ROOT / "exercises" / "source").glob("*/*.ipynb")) if _has_math(ex)]
    failures = []
    for ex in pages:
        info = _probe(out / "exercises" / ex.parent.name / ex.stem / "index.html")
        if info is None: failures.append(f"{ex.name}: the page did not finish loading"); continue
        print(f"{ex.parent.name}/{ex.stem}: {info['math']} formulas typeset")
        failures += _math_problems(ex.name, info, True)
    assert not failures, "\n".join(failures)
