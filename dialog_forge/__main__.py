"""``python -m dialog_forge`` is the ``forge`` command."""

from .cli.main import main

if __name__ == "__main__":
    main()
