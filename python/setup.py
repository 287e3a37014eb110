"""The package's version is the extension's: default_version in
nezuko_analytics.control, the one place it is written."""
import re
from pathlib import Path

from setuptools import setup

control = (Path(__file__).resolve().parent.parent / "nezuko_analytics.control").read_text()
setup(version=re.search(r"^default_version\s*=\s*'([^']+)'", control, re.M).group(1))
