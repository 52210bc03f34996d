"""The home page: each domain's summary for the person logged in."""
