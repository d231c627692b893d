"""Score sheets: the expert's independent, blind, autosaved scoring.

Importing the package registers scoring's check in panels' guard_panel_change, so that no panel change anywhere
(pages, CLI, services) can drop a submitted sheet silently.
"""

from reviewapp.scoring import service as _service  # noqa: F401
