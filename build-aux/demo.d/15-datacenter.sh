# build-aux/demo.d/15-datacenter.sh: the demo's data center (sourced by build-aux/demo)
#
# A reference data center in demo-state/datacenter, on loopback with its own CA:
#   - made once with `postmeter-datacenter init`, signing with the demo provider key of
#     data/keys (the key data/rates is signed with), so the kiosk needs one provider key;
#   - the demo meter's software PSD (demo-state/meter/psd) is made trusting that key and
#     registered for the account DEMO-001, which gets $5,000.00;
#   - the rate packages of data/rates are published with their signature files, each
#     under its own id, version and effective date (what the kiosk checks on download);
#   - the kiosk's settings point at it (data center, 204 check, CA, provider key);
#   - it is served in the background and stopped when the demo ends.
# 20-psd.sh then gives the PSD its operational block and its first $500.00 through the
# data center (postmeter-admin refill); afterwards Funds refills and inspects.
#
# Ports: POSTMETER_DEMO_DC_PORT (TLS, default 18443) and POSTMETER_DEMO_DC_HTTP_PORT (the
# 204 check, default 18080). A PSD made before the data center existed (without it) is
# left alone: remove demo-state/ to start again with both.
demo_dc="$POSTMETER_BUILDDIR/src/datacenter/postmeter-datacenter"
demo_dc_dir="$POSTMETER_DEMO_DIR/datacenter"
demo_dc_port="${POSTMETER_DEMO_DC_PORT:-18443}"
demo_dc_http_port="${POSTMETER_DEMO_DC_HTTP_PORT:-18080}"
demo_dc_log="$POSTMETER_DEMO_DIR/datacenter.log"
demo_psd_dir="$POSTMETER_STATE_DIR/psd"

if [ ! -f "$demo_dc_dir/ca.pem" ]; then
  echo "demo: making the demo data center in $demo_dc_dir"
  "$demo_dc" init "$demo_dc_dir" --host 127.0.0.1 \
    --provider-key "$top/data/keys/demo-provider.key" >/dev/null

  # The rate packages with their signature files (signed offline with the same key). The
  # name and version published are the package's own: the kiosk refuses a download whose
  # signed name or version differs from the id and version inside the package.
  mkdir -p "$demo_dc_dir/packages"
  for rates in data/rates/usps-*.xml; do
    rates_id=$(sed -n 's/.*<rate-package[^>]* id="\([^"]*\)".*/\1/p' "$rates")
    rates_version=$(sed -n 's/.*<rate-package[^>]* version="\([^"]*\)".*/\1/p' "$rates")
    rates_effective=$(sed -n 's/.*<rate-package[^>]* effective="\([^"]*\)".*/\1/p' "$rates")
    if [ -z "$rates_id" ] || [ -z "$rates_version" ] || [ -z "$rates_effective" ]; then
      echo "demo: $rates has no id, version or effective date; not published" >&2
      continue
    fi
    cp "$rates" "$demo_dc_dir/packages/"
    [ -f "$rates.sig" ] && cp "$rates.sig" "$demo_dc_dir/packages/"
    "$demo_dc" publish-package "$demo_dc_dir" "$demo_dc_dir/packages/$(basename "$rates")" \
      --type rates --name "$rates_id" --version "$rates_version" \
      --effective "$rates_effective" >/dev/null
  done
  unset rates rates_id rates_version rates_effective
fi

# A demo state made by an older demo, whose data center made its own provider key, has a
# PSD that opens with that key only; the kiosk now trusts the demo provider key.
demo_pem_block() {
  sed -n '/-----BEGIN PUBLIC KEY-----/,/-----END PUBLIC KEY-----/p' "$1"
}
if [ "$(demo_pem_block "$demo_dc_dir/provider.pub.pem")" != \
     "$(demo_pem_block "$top/data/keys/demo-provider.pub")" ]; then
  echo "demo: $demo_dc_dir signs with its own provider key, not data/keys/demo-provider.key;" \
       "remove $POSTMETER_DEMO_DIR to start again" >&2
  exit 1
fi
unset -f demo_pem_block

if [ ! -d "$demo_psd_dir" ]; then
  echo "demo: making the demo PSD and registering it with the data center"
  "$demo_dc" register-software-psd "$demo_dc_dir" "$demo_psd_dir" --account DEMO-001 \
    --psd-serial 4100777 --origin-zip 60601 >/dev/null
  "$demo_dc" fund "$demo_dc_dir" DEMO-001 5000.00 >/dev/null
fi

gsettings set org.postmeter.Kiosk datacenter-url "https://127.0.0.1:$demo_dc_port"
gsettings set org.postmeter.Kiosk connectivity-url \
  "http://127.0.0.1:$demo_dc_http_port/generate_204"
gsettings set org.postmeter.Kiosk provider-ca-file "$demo_dc_dir/ca.pem"
gsettings set org.postmeter.Kiosk provider-key-file "$top/data/keys/demo-provider.pub"

# The data center of a demo that has just ended may still hold the ports for a moment
# (it is stopped within a second of the demo's end): a busy port is tried again.
demo_dc_attempts=10
while :; do
  "$demo_dc" serve "$demo_dc_dir" --address 127.0.0.1 --port "$demo_dc_port" \
    --http-port "$demo_dc_http_port" >"$demo_dc_log" 2>&1 &
  demo_dc_pid=$!
  tries=100
  until grep -q '^Serving' "$demo_dc_log" 2>/dev/null; do
    if ! kill -0 "$demo_dc_pid" 2>/dev/null || [ "$tries" -le 0 ]; then
      break
    fi
    tries=$((tries - 1))
    sleep 0.1
  done
  grep -q '^Serving' "$demo_dc_log" 2>/dev/null && break
  kill "$demo_dc_pid" 2>/dev/null || true
  demo_dc_attempts=$((demo_dc_attempts - 1))
  if ! grep -q 'Address already in use' "$demo_dc_log" || [ "$demo_dc_attempts" -le 0 ]; then
    echo "demo: the data center did not start; see $demo_dc_log" >&2
    exit 1
  fi
  sleep 1
done

# build-aux/demo ends by exec'ing the kiosk runner, which keeps this shell's process id:
# the data center goes when that process goes, however the demo ends.
demo_shell_pid=$$
(
  trap '' INT
  while kill -0 "$demo_shell_pid" 2>/dev/null; do sleep 1; done
  kill "$demo_dc_pid" 2>/dev/null
) >/dev/null 2>&1 &

echo "demo: data center at https://127.0.0.1:$demo_dc_port (log: $demo_dc_log)"
export POSTMETER_DEMO_DATACENTER="https://127.0.0.1:$demo_dc_port"
unset demo_dc demo_dc_dir demo_dc_port demo_dc_http_port demo_dc_log demo_psd_dir tries
unset demo_shell_pid demo_dc_attempts
