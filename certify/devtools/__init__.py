"""Tools for the people who change the code; nothing here runs in production."""
