"""Which package of certify/ imports which: `python -m certify.devtools.imports`.

One line a package, with the packages it imports directly (the composition root `certify`
and `certify.models` left out). `--why A B` shows the module imports behind one arrow. The
rules these must follow are in pyproject.toml's [tool.importlinter] and docs/architecture.md;
`lint-imports` (run by `make test`) checks them.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import grimp

ROOTS = {"certify", "certify.models"}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_edges(graph) -> dict[str, dict[str, set[tuple[str, str]]]]:
    edges: dict[str, dict[str, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    for module in graph.modules:
        if module in ROOTS:
            continue
        source = package_of(module)
        for imported in graph.find_modules_directly_imported_by(module):
            target = package_of(imported)
            if imported not in ROOTS and target != source:
                edges[source][target].add((module, imported))
    return edges


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--why", nargs=2, metavar=("FROM", "TO"), help="e.g. --why cohorts exams")
    args = parser.parse_args(argv)
    graph = grimp.build_graph("certify", exclude_type_checking_imports=True)
    edges = package_edges(graph)
    if args.why:
        source, target = args.why
        for module, imported in sorted(edges[source][target]):
            print(f"{module} -> {imported}")
        return
    packages = sorted({package_of(m) for m in graph.modules if m not in ROOTS})
    for package in packages:
        print(f"{package:14} -> {', '.join(sorted(edges[package])) or '(nothing)'}")


if __name__ == "__main__":
    main()
