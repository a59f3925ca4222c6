"""The apps stand in layers: an app imports only from the apps below it.

Every absolute import in an app's modules counts, at module level or inside a function
(migrations excepted: they name the models of the apps their tables depend on). An app that
needs something from a higher one takes it as an argument, or offers a hook the higher app
fills in from its ``AppConfig.ready``; a page that combines several apps belongs to
``portal``. So no two apps import each other, and a change to a lower app never has to
follow a higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# Lowest first. Each app may import the apps before it in this list, never one after it.
LAYERS = [
    "core",  # audit events, sequences, the outbox, scoping and base views
    "accounts",  # the User
    "regulators",  # agencies and their staff
    "organizations",  # businesses and their members
    "facilities",  # a business's sites, in regulators' jurisdictions
    "libraries",  # chemical and violation libraries, the data dictionary
    "submittals",  # what a facility reports, per element
    "cme",  # inspections, violations, enforcement
    "edt",  # the EDT services and their access administration
    "portal",  # pages that combine several apps
    "demo",  # the demo data: one of everything
    "cers",  # the project: settings, URLs, the Celery app
]


def app_modules(app: str):
    """Every Python file of ``app``, migrations excepted."""
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def imported_modules(path: Path):
    """``(line, module)`` for every absolute import in ``path``, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def cross_app_imports():
    """``(file, line, importing app, imported app, module)`` for every import of one app by
    another."""
    rank = {app: i for i, app in enumerate(LAYERS)}
    for app in LAYERS:
        for path in app_modules(app):
            for line, module in imported_modules(path):
                target = module.split(".")[0]
                if target in rank and target != app:
                    yield path.relative_to(ROOT).as_posix(), line, app, target, module


def test_every_project_app_has_a_layer():
    project_apps = {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == ROOT.resolve()
    }
    assert {"core", "edt"} <= project_apps
    assert project_apps - set(LAYERS) == set(), "add the new app to LAYERS"


def test_no_app_imports_a_higher_one():
    """So no two apps import each other either."""
    rank = {app: i for i, app in enumerate(LAYERS)}
    upward = [
        f"{file}:{line} imports {module} ({app} is below {target})"
        for file, line, app, target, module in cross_app_imports()
        if rank[target] > rank[app]
    ]
    assert not upward, "imports of a higher app:\n" + "\n".join(upward)
