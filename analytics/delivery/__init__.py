"""Delivery: Git and pull-request import, deployments and incidents, and the team-week
delivery figures computed from them (team level only)."""
