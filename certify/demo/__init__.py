"""Demo data for a first look and for the browser journeys.

Two real trades and one account per role.
"""
