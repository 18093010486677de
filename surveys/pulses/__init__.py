"""Anonymous recurring pulse surveys: the question bank, schedules and their runs,
invitations, answering, and the anonymous responses."""
