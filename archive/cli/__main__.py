"""``python -m archive.cli``: the same as the ``citevault`` command."""
from archive.cli.main import main

main()
