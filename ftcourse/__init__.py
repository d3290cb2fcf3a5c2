"""ftcourse: a Jupyter-first course on fine-tuning models.

Importing the package applies the active scale (`FTCOURSE_SCALE`): at `small` scale the Hugging Face
libraries are put offline, so import `ftcourse` before `transformers` or `datasets`.
"""
__version__ = "0.1.0"

from .config import get_scale, set_scale, preset  # noqa: F401  (cheap: standard library only)


def _quiet_bitsandbytes_kernel_notice():
    """Drop one log line of bitsandbytes 0.50: on CPUs with AVX-512 bf16, importing it (transformers and peft do)
    tries to fetch an optional faster 4-bit kernel from the Hugging Face Hub with the `kernels` package and logs
    "Failed to load CPU gemm_4bit_forward from kernels-community" when it cannot; bitsandbytes then uses its own
    built-in kernel, which is what the course expects. Only that message is filtered; every other warning stays."""
    import logging

    class _KernelNotice(logging.Filter):
        def filter(self, record):
            return not str(record.msg).startswith("Failed to load CPU gemm_4bit_forward from kernels-community")

    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")  # the logger that prints it, created in advance
    if not any(isinstance(f, _KernelNotice) or type(f).__name__ == "_KernelNotice" for f in logger.filters):
        logger.addFilter(_KernelNotice())


_quiet_bitsandbytes_kernel_notice()


def __getattr__(name):  # lazy, so that `import ftcourse` stays fast
    if name == "check_environment":
        from .environment import check_environment
        return check_environment
    raise AttributeError(f"module 'ftcourse' has no attribute {name!r}")
