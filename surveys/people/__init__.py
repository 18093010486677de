"""People and teams: organisations, the team tree, dated memberships with roles, and the
one module with every authorisation rule (`access`)."""
