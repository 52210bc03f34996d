"""Results: practical scores, pass decisions, publicity (公示) and final results."""
