"""Moving the test database to a migration state and back, for the tests of a migration's
data step."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to ``targets`` (``[(app, migration), ...]``) and return the apps of that
    state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Migrate to every app's latest migration (what the other tests expect)."""
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
