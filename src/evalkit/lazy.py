"""Package attributes imported on first use (PEP 562), so that importing one light module stays light.

``evalkit.report`` and ``evalkit.stats`` re-export their modules' functions for
the notebooks (``report.results_table(...)``, ``stats.mcnemar(...)``). Imported
eagerly, the package ``__init__`` would load every module: the index page and
the HTML export would then import pingouin and statsmodels (1-2 s per process)
for functions they never call. With :func:`lazy_exports` a name's module is
imported the first time the name is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, object]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package`` that import each name from its module.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Exported name -> submodule (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``: a resolved name is stored there, so it
        is looked up only once.

    Returns
    -------
    (__getattr__, __dir__)

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("evalkit.stats", {"holm": "multiplicity"}, {})
    >>> getattr_("holm").__name__
    'holm'
    """

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return __getattr__, __dir__
