#!/bin/sh
# okta-lab openvpn entrypoint. First start: a lab VPN CA and server certificate (ECDSA P-256), a
# tls-crypt key, and data/openvpn/client.ovpn (a profile with them inline). Every start: the
# radiusplugin configuration (secret from the environment, into /run, 0600) and the server
# config, then openvpn in the foreground. Users log in with NAME and PASSWORD,CODE (or whatever
# the RADIUS server accepts in one PAP request): there are no client certificates.
set -eu
DATA=/data
RUN=/run/okta-lab-openvpn
: "${RADIUS_SECRET:?RADIUS_SECRET is required}"
: "${RADIUS_HOST:=radius}"
: "${RADIUS_TIMEOUT:=60}"
: "${OPENVPN_REMOTE:=127.0.0.1}"
: "${OPENVPN_PUBLIC_PORT:=1194}"
: "${OPENVPN_NETWORK:=10.8.0.0}"
log() { echo "openvpn: $*"; }

umask 077
install -d -m 0700 "$DATA" "$RUN"
if [ ! -s "$DATA/server.crt" ]; then
  log "first start: generating the VPN CA, server certificate and tls-crypt key"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -keyout "$DATA/ca.key" -out "$DATA/ca.crt" -subj "/CN=okta-lab VPN CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=openvpn" \
    -keyout "$DATA/server.key" -out "$RUN/server.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    > "$RUN/server.ext"
  openssl x509 -req -sha256 -days 825 -in "$RUN/server.csr" -CA "$DATA/ca.crt" -CAkey "$DATA/ca.key" \
    -CAcreateserial -extfile "$RUN/server.ext" -out "$DATA/server.crt" 2>/dev/null
  openvpn --genkey tls-crypt "$DATA/tls-crypt.key"
fi
# The client profile follows the published address and port (re-written when they change).
{
  cat <<CONF
# okta-lab VPN profile: log in with a sample user and PASSWORD,CODE (`lab radius otp USER`).
client
dev tun
proto udp
remote $OPENVPN_REMOTE $OPENVPN_PUBLIC_PORT
nobind
remote-cert-tls server
verify-x509-name openvpn name
auth-user-pass
auth-nocache
hand-window $((RADIUS_TIMEOUT + 30))
pull-filter ignore "route-gateway"
verb 3
<ca>
$(cat "$DATA/ca.crt")
</ca>
<tls-crypt>
$(cat "$DATA/tls-crypt.key")
</tls-crypt>
CONF
} > "$DATA/client.ovpn.new"
mv "$DATA/client.ovpn.new" "$DATA/client.ovpn"
chmod 0644 "$DATA/client.ovpn" "$DATA/ca.crt"

cat > "$RUN/server.conf" <<CONF
port 1194
proto udp
dev tun
topology subnet
server $OPENVPN_NETWORK 255.255.255.0
ca $DATA/ca.crt
cert $DATA/server.crt
key $DATA/server.key
dh none
tls-crypt $DATA/tls-crypt.key
tls-version-min 1.2
verify-client-cert none
username-as-common-name
hand-window $((RADIUS_TIMEOUT + 30))
plugin /usr/lib/openvpn/radiusplugin.so $RUN/radiusplugin.cnf
status $RUN/status.log 1
keepalive 10 60
persist-key
verb 3
CONF
cat > "$RUN/radiusplugin.cnf" <<CONF
NAS-Identifier=okta-lab-openvpn
Service-Type=5
Framed-Protocol=1
NAS-Port-Type=5
NAS-IP-Address=127.0.0.1
OpenVPNConfig=$RUN/server.conf
subnet=255.255.255.0
overwriteccfiles=true
nonfatalaccounting=true
server
{
	acctport=1813
	authport=1812
	name=$RADIUS_HOST
	retry=1
	wait=$RADIUS_TIMEOUT
	sharedsecret=$RADIUS_SECRET
}
CONF
[ -c /dev/net/tun ] || { log "no /dev/net/tun: the service needs devices: [/dev/net/tun] and cap NET_ADMIN"; exit 1; }
log "serving the VPN on 1194/udp; users are checked by RADIUS at $RADIUS_HOST:1812"
exec openvpn --config "$RUN/server.conf"
