"""Score sheets: the expert's independent, blind, autosaved scoring.

Importing the package registers scoring's check in panels' guard_panel_change, so that no panel change anywhere
(pages, CLI, services) can drop a submitted sheet silently, and the experts' view rule on application attachments.
"""

from reviewapp.scoring import sheets as _sheets  # noqa: F401
from reviewapp.scoring import submission as _submission  # noqa: F401
