"""The JDBC lab: the MariaDB (or PostgreSQL) database, DBGate and the Okta on-prem SCIM/OPP agents."""

from __future__ import annotations

import re

from pydantic import field_validator

from lab.settings.base import Section, env, secret
from lab.settings.base import port as port_field

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class JdbcSettings(Section):
    #: The lab database's engine. The MARIADB_* keys below name the database, its application
    #: user and passwords for either engine (MARIADB_ROOT_PASSWORD is PostgreSQL's `postgres` role).
    engine: str = env("JDBC_DATABASE", "mariadb")
    database: str = env("MARIADB_DATABASE", "oktademo")
    user: str = env("MARIADB_USER", "oktademo")
    password: str = secret("MARIADB_PASSWORD")
    root_password: str = secret("MARIADB_ROOT_PASSWORD")
    port: int = port_field("MARIADB_PORT", 3306)
    publish: bool = env("MARIADB_PUBLISH", False)
    dbgate_port: int = port_field("DBGATE_PORT", 8090)
    dbgate_login: str = env(
        "DBGATE_LOGIN",
        "admin",
        pattern=r"^[A-Za-z0-9_.@-]{1,64}$",
        description="use letters, digits and . _ @ - (e.g. admin)",
    )
    dbgate_password: str = secret("DBGATE_PASSWORD")
    customer_id: str = env(
        "CUSTOMER_ID",
        "my-okta-org",
        pattern=r"^[a-z0-9-]+$",
        description="use your Okta org subdomain, e.g. acme for acme.okta.com",
    )
    scim_host: str = env("OKTA_SCIM_HOSTNAME", "okta-scim")
    connector_version: str = env(
        "MYSQL_CONNECTOR_VERSION",
        "9.6.0",
        pattern=r"^[0-9]+(\.[0-9]+){1,3}$",
        description="a MySQL Connector/J version such as 9.6.0",
    )

    @property
    def is_postgresql(self) -> bool:
        return self.engine == "postgresql"

    @property
    def db_port(self) -> int:
        """The port the database listens on inside the lab (not the published MARIADB_PORT)."""
        return 5432 if self.is_postgresql else 3306

    @property
    def jdbc_url(self) -> str:
        """The JDBC URL for the Okta Generic Database Connector, inside the lab."""
        if self.is_postgresql:
            return f"jdbc:postgresql://db:5432/{self.database}"
        return f"jdbc:mysql://db:3306/{self.database}?allowMultiQueries=true"

    @property
    def driver_class(self) -> str:
        return "org.postgresql.Driver" if self.is_postgresql else "com.mysql.cj.jdbc.Driver"

    @field_validator("engine")
    @classmethod
    def _engine_is_known(cls, value: str) -> str:
        if value not in ("mariadb", "postgresql"):
            raise ValueError("is not a database engine of the lab; use mariadb or postgresql")
        return value

    @field_validator("database")
    @classmethod
    def _database_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value) or len(value) > 57:
            raise ValueError(
                "is not a valid database name; use up to 57 letters, digits and underscores, "
                "starting with a letter (e.g. oktademo)"
            )
        return value

    @field_validator("user")
    @classmethod
    def _user_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value) or len(value) > 32:
            raise ValueError(
                "is not a valid user name; use up to 32 letters, digits and underscores, "
                "starting with a letter (e.g. oktademo)"
            )
        return value
