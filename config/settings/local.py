"""Local use on one machine: embedded defaults, no services required."""
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool

from .base import *  # noqa: F403 - settings modules extend the base by design
from .base import DEIDENTIFICATION_KEY, VAR_DIR

DEBUG = env_bool("DEBUG", True)

# De-identified exports need a key. Without REGISTRY_DEIDENTIFICATION_KEY, the one scripts/up
# creates on first run (scripts/local-deidentification-key, under var/, never committed) is used;
# production settings never read this file.
DEIDENTIFICATION_KEY_FILE = VAR_DIR / "deidentification.key"
if DEIDENTIFICATION_KEY is None and DEIDENTIFICATION_KEY_FILE.is_file():
    DEIDENTIFICATION_KEY = DEIDENTIFICATION_KEY_FILE.read_text(encoding="utf-8").strip()
    DEIDENTIFICATION_KEY_SOURCE = "local key file deidentification.key"
    if len(DEIDENTIFICATION_KEY) < 32:
        raise ImproperlyConfigured(
            f"{DEIDENTIFICATION_KEY_FILE} holds a de-identification key of {len(DEIDENTIFICATION_KEY)} characters; "
            "it needs at least 32. Delete the file and run ./scripts/up again to create a new one."
        )
