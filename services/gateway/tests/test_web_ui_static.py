"""The web UI's files: the page's accepted types and the modules' import graph (no stack)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from collections_gateway.routes import ui
from collections_shared.domain.media import ALLOWED_TYPES

STATIC = Path(ui.__file__).resolve().parent.parent / "static"
IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["'](?P<target>[^"']+)["']""", re.MULTILINE)


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.accept: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "file":
            self.accept.append(values.get("accept"))


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in STATIC.glob("*.js"):
        targets = set()
        for match in IMPORT.finditer(module.read_text(encoding="utf-8")):
            target = match["target"]
            assert target.startswith("./"), f"{module.name} imports {target}: use ./module.js"
            targets.add(target.removeprefix("./"))
        graph[module.name] = targets
    return graph


def test_the_page_accepts_exactly_the_types_the_gateway_accepts() -> None:
    """The file picker's accept list and the hint are the domain's ALLOWED_TYPES, no copy."""
    page = ui.render_index((STATIC / "index.html").read_text(encoding="utf-8")).decode()
    inputs = _Inputs()
    inputs.feed(page)
    assert [",".join(ALLOWED_TYPES)] == inputs.accept
    assert "{{" not in page
    for mime in ALLOWED_TYPES:
        assert mime.split("/")[1].upper() in page


def test_a_page_without_a_placeholder_is_refused() -> None:
    """A template that lost a placeholder fails at start-up instead of serving a stale list."""
    with pytest.raises(RuntimeError, match="accepted_names"):
        ui.render_index('<input type="file" accept="{{accepted_types}}">')


def test_the_modules_import_each_other_one_way() -> None:
    """Every import resolves to a module in static/ and the import graph has no cycle."""
    graph = _imports()
    assert "app.js" in graph
    for module, targets in graph.items():
        assert targets <= graph.keys(), f"{module} imports a missing module"
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, "import cycle: " + " -> ".join((*path, module))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert done == graph.keys()


def test_every_module_is_in_the_module_map() -> None:
    """static/README.md lists each module, so the map stays true as modules are added."""
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _imports() if f"`{name}`" not in readme]
    assert [] == missing
