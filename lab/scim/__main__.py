"""`python -m lab.scim`: run the SCIM server with settings from the environment."""

from lab.scim.server import main

raise SystemExit(main())
