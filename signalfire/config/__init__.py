"""Configuration: settings from the environment, and the declarative YAML page file."""

from signalfire.config.pagefile import (
    ApplyReport,
    PageFile,
    apply_pagefile,
    load_pagefile,
    parse_pagefile,
)
from signalfire.config.settings import Settings, env_var, load_settings

__all__ = [
    "ApplyReport",
    "PageFile",
    "Settings",
    "apply_pagefile",
    "env_var",
    "load_pagefile",
    "load_settings",
    "parse_pagefile",
]
