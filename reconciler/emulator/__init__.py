"""A local emulator of Bentley's iTwin Platform APIs (iTwins, Access Control v1/v2, Projects).

An independent implementation of the wire contract (shared/docs/itwin-api.md): it imports
nothing else from ``reconciler``. Entry points: :func:`create_app` (in-process, e.g. with
Starlette's ``TestClient``) and :func:`reconciler.emulator.server.start_background` (uvicorn on
a loopback port).
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.clock import Clock
from reconciler.emulator.limits import Faults

__all__ = ["Clock", "Faults", "create_app"]
