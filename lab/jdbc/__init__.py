"""The JDBC lab: rendered SQL, the procedure contract, and the Okta admin-console guide."""
