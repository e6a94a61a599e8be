"""A module that must never be imported by deserializing a config.

Importing it writes the canary file named by ``KD_CANARY_PATH`` (or
``kd_canary_module.ran`` in the working directory).
"""

import os

with open(os.environ.get("KD_CANARY_PATH", "kd_canary_module.ran"), "w") as _file:
    _file.write("kd_canary_module was imported\n")


class Payload:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    @classmethod
    def from_config(cls, config):
        return cls(**config)
