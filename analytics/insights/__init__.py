"""Insights: run aggregates, team-periods (survey figures next to delivery figures), the
reports kept from them (alerts, heatmap rows, correlations, roll-ups), and every read of
them for pages, the API and exports. The order of the refresh is analytics/pipeline.py's."""
