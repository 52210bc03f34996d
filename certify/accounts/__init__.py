"""People and their roles: workers, trainers, examiners, administrators, reviewers."""
