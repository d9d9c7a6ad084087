#!/usr/bin/env python3
"""A fake GLPI `bin/console`: records its arguments (one JSON list a line) in $FAKE_CONSOLE_LOG."""

import json
import os
import sys

with open(os.environ["FAKE_CONSOLE_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
