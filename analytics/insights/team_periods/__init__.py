"""The team-periods stage: a closed run's survey figures next to the same weeks' delivery
figures, one `TeamPeriod` per closed run — `figures.py` the maths, `fill.py` the fill,
`state.py` which periods are due."""
