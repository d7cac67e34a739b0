"""Import every module of a package (and of the Collections libraries installed beside it).

Run by ``scripts/check-service-installs`` inside an environment that has only that package's
locked dependencies, so an import of something the package does not declare fails here.
"""

import importlib
import importlib.util
import pkgutil
import sys

LIBRARIES = ("collections_shared", "collections_embeddings")


def modules(package: str) -> list[str]:
    path = importlib.import_module(package).__path__
    return [package] + [info.name for info in pkgutil.walk_packages(path, package + ".")]


def main(package: str) -> None:
    for forbidden in ("collections_devtools", "pytest"):
        if importlib.util.find_spec(forbidden) is not None:
            sys.exit(f"{package}: {forbidden} is installed in its environment")
    names = modules(package)
    if package == "collections_cli":
        if importlib.util.find_spec("collections_shared") is not None:
            sys.exit("collections_cli: the CLI must install without the server runtime kit")
    else:
        names += [
            name for lib in LIBRARIES if importlib.util.find_spec(lib) for name in modules(lib)
        ]
    for name in names:
        importlib.import_module(name)
    if package != "collections_cli":
        app = importlib.import_module(package + ".app")
        if not callable(getattr(app, "create_app", None)):
            sys.exit(f"{package}.app has no create_app")
    print(f"{package}: {len(names)} modules import on its own dependencies")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1])
