#!/bin/sh
# Run MailDev as the maildev user: SMTP on 1025 (for GLPI, no relay), the web UI and REST API on
# 1080 behind the generated login (MAILDEV_WEB_USER/MAILDEV_WEB_PASS from the lab's mail.env).
# Mails are kept in /var/lib/maildev across restarts. Refuses to start without a password.
set -eu
if [ -z "${MAILDEV_WEB_PASS:-}" ] || [ "${#MAILDEV_WEB_PASS}" -lt 12 ]; then
  echo "mail: MAIL_UI_PASSWORD is missing or shorter than 12 characters; run \`lab init --force\`" >&2
  exit 2
fi
: "${MAILDEV_WEB_USER:?mail: MAIL_UI_LOGIN is empty}"
install -d -o maildev -g maildev -m 0700 "$HOME/mails"
chown maildev:maildev "$HOME" "$HOME/mails"
echo "mail: SMTP on ${MAILDEV_SMTP_PORT}, web UI on ${MAILDEV_WEB_PORT} for ${MAILDEV_WEB_USER}"
exec setpriv --reuid=maildev --regid=maildev --init-groups \
  /usr/bin/node /opt/maildev/node_modules/maildev/bin/maildev \
  --mail-directory "$HOME/mails" --ip 0.0.0.0 --web-ip 0.0.0.0
