"""Kept for scrapyd-deploy, which builds an egg with ``python setup.py bdist_egg``; metadata is in pyproject.toml."""
from setuptools import setup

setup()
