"""The active schemes' policies, loaded once when the hub starts."""

from collections.abc import Mapping, Sequence

from hub.config import Settings
from hub.enums import Scheme
from hub.evaluate.policy import SCHEMES_DIR, PolicyError, SchemePolicy, load_policies

Policies = Mapping[Scheme, Sequence[SchemePolicy]]


def active_policies(settings: Settings) -> Policies:
    """Every version of each active scheme; PolicyError if one is missing or
    any file is invalid (the hub refuses to start, naming file and line)."""
    directory = settings.policy_dir or SCHEMES_DIR
    loaded = load_policies(directory)
    for scheme in settings.active_schemes:
        if not loaded.get(scheme):
            raise PolicyError(
                directory, None, f"no policy file for active scheme {scheme.value}"
            )
    return {scheme: loaded[scheme] for scheme in settings.active_schemes}
