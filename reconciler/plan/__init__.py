"""Planning: from the diff's operations to a guarded, ordered plan. Pure: no I/O.

``settings`` (what the config sets: guard thresholds, policy rules; values only, so that
reading a config imports no planner) < ``kinds`` (the operation-kind registry) <
``operations`` (operations and their order) < ``fingerprint`` (the live state a plan was
computed from) < ``preflight`` (rights and facts checked before writing) < ``guards`` (safety
rules) < ``build`` (``build_plan`` and ``Plan``: batching, guards, preflight, the saved-plan
format) < ``replan`` (a saved plan rechecked on live state read again, for ``apply --plan``).
Import from the submodule that owns a name;
this package module imports nothing, so the modules below ``build`` (diff, cascade, effective...)
can use ``operations`` and ``kinds`` without importing the whole planner.
"""
