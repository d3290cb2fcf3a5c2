"""The `ftcourse` console command."""
import subprocess
from pathlib import Path
import sys

BIN = Path(sys.executable).parent


def run(*args):
    return subprocess.run([str(BIN / "ftcourse"), *args], capture_output=True, text=True, timeout=300)


def test_help_lists_subcommands():
    proc = run("--help")
    assert proc.returncode == 0
    for cmd in ("check", "assets", "lessons"):
        assert cmd in proc.stdout


def test_check_passes_here():
    proc = run("check")
    assert proc.returncode == 0, proc.stdout
    assert "All set" in proc.stdout


def test_assets_install_command():
    proc = run("assets", "install-command")
    assert proc.stdout.startswith("pip install --no-deps ")


def test_unknown_subcommand_is_a_usage_error():
    proc = run("frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
