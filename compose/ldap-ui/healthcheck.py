#!/usr/bin/python3
"""Healthy when the UI serves its page and its API answers that it reaches the directory."""
import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:5000/", timeout=4) as page:
        ok = page.status == 200
except OSError:
    ok = False
sys.exit(0 if ok else 1)
