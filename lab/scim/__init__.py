"""The toolkit's SCIM 2.0 server (RFC 7643/7644) over the Okta connector operations.

Modules: `operations` (the operation map shared with `lab jdbc guide`), `filters`, `mapping`,
`patch`, `projection`, `schemas`, `service`, `db`, `backend`, `security`, `app`, `server`, `demo`.
"""
