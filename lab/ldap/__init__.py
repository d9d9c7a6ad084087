"""The LDAP lab: password hashing, LDIF rendering helpers, the directory client and scenarios."""
