# build-aux/demo.d/15-datacenter.sh: the demo's data center (sourced by build-aux/demo)
#
# A reference data center in demo-state/datacenter, on loopback with its own CA:
#   - made once with `postmeter-datacenter init`;
#   - the demo meter's software PSD (demo-state/meter/psd) is made trusting the data
#     center's provider key and registered for the account DEMO-001, which gets $5,000.00;
#   - the rate packages of data/rates are published (signed by the data center);
#   - the kiosk's settings point at it (data center, 204 check, CA, provider key);
#   - it is served in the background and stopped when the demo ends.
# The PSD gets its operational block from the data center over TLS the first time the
# kiosk connects (on start, or Funds > Connect now); then Funds can refill and inspect.
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
  "$demo_dc" init "$demo_dc_dir" --host 127.0.0.1 >/dev/null

  # The rate packages, signed by this data center's provider key (the .sig files beside
  # them in data/ are signed with another key, so they are left out).
  mkdir -p "$demo_dc_dir/packages"
  version=0
  for rates in data/rates/usps-*.xml; do
    version=$((version + 1))
    date=$(basename "$rates" .xml | sed 's/^usps-//')
    cp "$rates" "$demo_dc_dir/packages/"
    "$demo_dc" publish-package "$demo_dc_dir" "$demo_dc_dir/packages/$(basename "$rates")" \
      --type rates --name usps-domestic --version "$version" --effective "$date" >/dev/null
  done
  unset version date rates
fi

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
gsettings set org.postmeter.Kiosk provider-key-file "$demo_dc_dir/provider.pub.pem"

"$demo_dc" serve "$demo_dc_dir" --address 127.0.0.1 --port "$demo_dc_port" \
  --http-port "$demo_dc_http_port" >"$demo_dc_log" 2>&1 &
demo_dc_pid=$!

# build-aux/demo ends by exec'ing the kiosk runner, which keeps this shell's process id:
# the data center goes when that process goes, however the demo ends.
demo_shell_pid=$$
(
  trap '' INT
  while kill -0 "$demo_shell_pid" 2>/dev/null; do sleep 1; done
  kill "$demo_dc_pid" 2>/dev/null
) >/dev/null 2>&1 &

tries=100
until grep -q '^Serving' "$demo_dc_log" 2>/dev/null; do
  if ! kill -0 "$demo_dc_pid" 2>/dev/null || [ "$tries" -le 0 ]; then
    echo "demo: the data center did not start; see $demo_dc_log" >&2
    exit 1
  fi
  tries=$((tries - 1))
  sleep 0.1
done
echo "demo: data center at https://127.0.0.1:$demo_dc_port (log: $demo_dc_log)"
export POSTMETER_DEMO_DATACENTER="https://127.0.0.1:$demo_dc_port"
unset demo_dc demo_dc_dir demo_dc_port demo_dc_http_port demo_dc_log demo_psd_dir tries
unset demo_shell_pid
