"""``python -m reconciler`` is the same as the ``itwin-access`` command."""

from reconciler.cli import run

if __name__ == "__main__":
    run()
