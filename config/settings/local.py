"""Local use on one machine: embedded defaults, no services required."""
from config.env import env_bool

from .base import *  # noqa: F403 - settings modules extend the base by design

DEBUG = env_bool("DEBUG", True)
