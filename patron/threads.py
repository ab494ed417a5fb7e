"""Process-wide cap on BLAS threads (OpenBLAS, MKL, ...) through threadpoolctl.

On a shared 2-core machine BLAS threads of concurrent processes fight each other: a BG/NBD fit on
100k customers took 0.9-4.8 s with default threading and 0.10-0.13 s with one thread
(``bench/clv.py --only threads``). CLI, worker (both via ``open_runtime``) and server
(``patron.asgi``) call ``pin_blas_threads(settings.blas_threads)`` once at start.
"""

from __future__ import annotations

import importlib

from threadpoolctl import threadpool_info, threadpool_limits

# NumPy and SciPy each bundle their own BLAS; limits reach only libraries already loaded.
_BLAS_MODULES = ("numpy", "scipy.linalg")
_applied: int | None = None


def pin_blas_threads(limit: int) -> None:
    """Cap every loaded BLAS library at `limit` threads for the process; 0 leaves the default."""
    global _applied
    if limit < 0:
        raise ValueError(f"BLAS thread limit must be 0 or more, got {limit}")
    if limit == 0 or limit == _applied:
        return
    for name in _BLAS_MODULES:
        importlib.import_module(name)
    threadpool_limits(limits=limit, user_api="blas")
    _applied = limit


def blas_threads() -> list[int]:
    """The current thread count of each loaded BLAS library."""
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
