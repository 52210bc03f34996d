"""The JSON API (/api/v1): the same services as the pages, for the exam page and other tools."""
