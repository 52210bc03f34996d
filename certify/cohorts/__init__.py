"""Training classes (培训班) and their rosters (花名册)."""
