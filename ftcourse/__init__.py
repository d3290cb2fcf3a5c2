"""ftcourse: a Jupyter-first course on fine-tuning models.

Importing the package applies the active scale (`FTCOURSE_SCALE`): at `small` scale the Hugging Face
libraries are put offline, so import `ftcourse` before `transformers` or `datasets`.
"""
__version__ = "0.1.0"

from .config import get_scale, set_scale, preset  # noqa: F401  (cheap: standard library only)


def __getattr__(name):  # lazy, so that `import ftcourse` stays fast
    if name == "check_environment":
        from .environment import check_environment
        return check_environment
    raise AttributeError(f"module 'ftcourse' has no attribute {name!r}")
