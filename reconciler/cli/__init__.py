"""The ``itwin-access`` command: the only place that prints, parses options and picks exit codes.

Each subcommand lives in a module of its own in this package, listed in ``commands.COMMANDS``
and imported only when it runs. Every
error we raise on purpose is an ``ItwinAccessError``: it becomes one line on stderr and its exit
code. Anything else is a bug; it still becomes one line (exit 1) rather than a traceback, unless
``ITWIN_ACCESS_DEBUG`` is set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from reconciler import __version__
from reconciler.cli.commands import LazyGroup
from reconciler.cli.terminal import (
    EXIT_TERMINATED,
    Terminated,
    sigterm_as_interrupt,
)
from reconciler.cli.verbose import verbose_options
from reconciler.errors import ItwinAccessError, Unauthorized
from reconciler.redact import redact
from reconciler.visible import visible

EXIT_INTERRUPTED = 130
# A usage error exits 1 like any other error, not click's 2: for `plan --detailed-exitcode` and
# `drift`, 2 means "changes"/"drift", and a typo in a CI script must not read as that.
EXIT_USAGE = 1


# A 401 names the request that failed; the person needs to know which setting to fix.
_CREDENTIALS_HINT = (
    "; check the credentials in the environment: ITWIN_ACCESS_TOKEN (expired?), or "
    "ITWIN_CLIENT_ID and ITWIN_CLIENT_SECRET"
)


def error_line(exc: ItwinAccessError) -> str:
    """The one stderr line for an error we raised on purpose."""
    hint = _CREDENTIALS_HINT if isinstance(exc, Unauthorized) else ""
    return visible(redact(f"Error: {exc}{hint}"))


def usage_error_line(exc: click.UsageError) -> str:
    """A bad option or argument as one line that says where to look."""
    where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
    return f"Error: {exc.format_message()}{where}"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="itwin-access")
@verbose_options
def cli() -> None:
    """Keep access to Bentley iTwin projects as code: validate, plan, apply, drift, export."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (pre-commit's ``main(argv) -> int`` habit)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with sigterm_as_interrupt():
            result = cli.main(args=args, prog_name="itwin-access", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # no command at all: the help (on stderr), not an error line
        return EXIT_USAGE
    except click.UsageError as exc:
        click.echo(usage_error_line(exc), err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_INTERRUPTED
    except Terminated:
        click.echo("Terminated.", err=True)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except ItwinAccessError as exc:
        click.echo(error_line(exc), err=True)
        return exc.exit_code
    except Exception as exc:  # a bug: say so in one line, never a traceback
        if os.environ.get("ITWIN_ACCESS_DEBUG"):
            raise
        click.echo(
            f"Internal error ({type(exc).__name__}): {exc}. "
            "This is a bug in itwin-access; set ITWIN_ACCESS_DEBUG=1 for a traceback.",
            err=True,
        )
        return 1
    return int(result) if isinstance(result, int) else 0


def run() -> NoReturn:
    """The ``itwin-access`` console script (and ``python -m reconciler``): ``main()``, then
    leave at once.

    Whatever the command does is done when ``main`` returns: its output written, sessions and the
    embedded emulator closed, the journal and saved files flushed and closed, locks released.
    What remains is the interpreter's teardown, which frees one by one the objects a large load
    made (0.1 s of ``validate``'s 2 s for 100,000 members); mypy leaves the same way
    (``util.hard_exit``). Tests call ``main``, which returns.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (``| head``): nothing more can be said
        code = code or 1
    os._exit(code)
