"""Imports every table module so that SQLModel.metadata (and Alembic) see all tables. Above the domains: db.py knows
none of them; the app, the CLI, migrations, tests and the bench call import_all_models() from here."""

from sqlalchemy.orm import configure_mappers

from reviewapp import files  # noqa: F401
from reviewapp.applications import models as applications_models  # noqa: F401
from reviewapp.audit import models as audit_models  # noqa: F401
from reviewapp.auth import models as auth_models  # noqa: F401
from reviewapp.casework import models as casework_models  # noqa: F401
from reviewapp.objections import models as objections_models  # noqa: F401
from reviewapp.panels import models as panels_models  # noqa: F401
from reviewapp.pool import models as pool_models  # noqa: F401
from reviewapp.publicity import models as publicity_models  # noqa: F401
from reviewapp.ranking import models as ranking_models  # noqa: F401
from reviewapp.reports import models as reports_models  # noqa: F401
from reviewapp.rounds import models as rounds_models  # noqa: F401
from reviewapp.scoring import models as scoring_models  # noqa: F401


def import_all_models() -> None:
    """Import every models module so SQLModel.metadata knows all tables, and configure their mappers: a request
    may build a model without any query first (auth's session_from_row uses model_construct), and an unconfigured
    mapper then fails with "'NoneType' object has no attribute 'supports_population'" (the first autosave after a
    restart did)."""
    configure_mappers()
