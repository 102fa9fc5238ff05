"""Settings and policy files of leadflow."""

from config.policy_files import PolicyError, load_policy, load_roster, parse_policy
from config.settings import Settings, mask_url

__all__ = ["PolicyError", "Settings", "load_policy", "load_roster", "mask_url", "parse_policy"]
