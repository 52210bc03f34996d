"""Exams: papers drawn from blueprints, grading, attempts."""
