"""Stand-ins for external services the labs talk to, served by the tests themselves."""
