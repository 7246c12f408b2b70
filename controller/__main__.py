"""``python -m controller`` is the same as the ``stackctl`` command."""

from controller.cli import main

if __name__ == "__main__":
    main()
