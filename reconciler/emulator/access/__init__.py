"""The Access Control API (``/accesscontrol/itwins``): v2 roles, groups, members, owners,
invitations and jobs, and the v1 shim over the same rows."""
