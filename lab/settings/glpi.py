"""The GLPI lab: GLPI (official image, needs a registry), its own MariaDB and the MailDev catcher."""

from __future__ import annotations

from lab.settings.base import Section, env, net_port, secret

_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,31}$"
_NAME_HINT = "use up to 32 letters, digits and underscores, starting with a letter (e.g. glpi)"


class GlpiSettings(Section):
    #: The official image, pinned to a GLPI 11 tag (not pullable here: no registry; tag unconfirmed).
    image: str = env(
        "GLPI_IMAGE",
        "glpi/glpi:11.0.4",
        pattern=r"^[a-z0-9./_-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$",
        description="use an image reference such as glpi/glpi:11.0.4",
    )
    port: int = net_port("GLPI_PORT", 8080)
    #: The URL GLPI is reached at from the browser (and Okta's SAML app): ACS and entity ID follow.
    url: str = env(
        "GLPI_URL", "", pattern=r"^(https?://[^\s/]+)?$", description="use e.g. http://glpi.example:8080 (no path)"
    )
    db_name: str = env("GLPI_DB_NAME", "glpi", pattern=_NAME, description=_NAME_HINT)
    db_user: str = env("GLPI_DB_USER", "glpi", pattern=_NAME, description=_NAME_HINT)
    db_password: str = secret("GLPI_DB_PASSWORD")
    db_root_password: str = secret("GLPI_DB_ROOT_PASSWORD")
    #: Generated passwords of GLPI's default accounts (glpi, tech, normal, post-only).
    admin_password: str = secret("GLPI_ADMIN_PASSWORD")
    tech_password: str = secret("GLPI_TECH_PASSWORD")
    normal_password: str = secret("GLPI_NORMAL_PASSWORD")
    postonly_password: str = secret("GLPI_POSTONLY_PASSWORD")
    mail_ui_port: int = net_port("MAIL_UI_PORT", 8025)
    mail_smtp_port: int = net_port("MAIL_SMTP_PORT", 1025)
    mail_ui_login: str = env(
        "MAIL_UI_LOGIN",
        "admin",
        pattern=r"^[A-Za-z0-9_.@-]{1,64}$",
        description="use letters, digits and . _ @ - (e.g. admin)",
    )
    mail_ui_password: str = secret("MAIL_UI_PASSWORD")
    #: Sender address of GLPI's notifications.
    mail_from: str = env(
        "GLPI_MAIL_FROM",
        "glpi@galaxy.local",
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="use an address such as glpi@galaxy.local",
    )

    def base_url(self, host: str) -> str:
        return self.url or f"http://{host}:{self.port}"

    @property
    def accounts(self) -> tuple[tuple[str, str], ...]:
        """GLPI's four default accounts with their generated passwords."""
        return (
            ("glpi", self.admin_password),
            ("tech", self.tech_password),
            ("normal", self.normal_password),
            ("post-only", self.postonly_password),
        )
