# build-aux/demo.d/20-psd.sh: the demo machine's devices (sourced by build-aux/demo)
#
# A fresh demo state gets a software PSD with an operational block for origin ZIP 60601
# and $500.00 of funds. A PSD that already holds funds keeps them: a second run of the
# demo does not refill again.
#
# With the demo's data center (15-datacenter.sh exports POSTMETER_DEMO_DATACENTER), both
# come from it, as they would on a customer's machine: the supervisor Alex Morgan
# authorises `postmeter-admin refill`, which signs the meter in, installs the block the
# data center signs and refills from the account DEMO-001. The data center numbers
# refills strictly, so the PSD is never refilled around it.
#
# Without one, the provider's side is played locally by postmeter-provider with the demo
# provider key in data/keys (the key that also signs data/rates); the PSD checks each
# signature before it applies anything.
#
# The kiosk is set to read the simulated scale replaying real USB scale reports
# (data/scale/dymo-m10-ounces.rec: a 3.5 oz letter, then a 12.6 oz flat, in a loop), to
# show the buttons that put a piece on and take it off, and to print envelopes as PDF
# and PNG into demo-state/printed/.
demo_admin="$POSTMETER_BUILDDIR/src/tools/postmeter-admin --state-dir=$POSTMETER_STATE_DIR"
demo_provider="$POSTMETER_BUILDDIR/src/tools/postmeter-provider"
demo_psd="$POSTMETER_BUILDDIR/src/tools/postmeter-psd --state-dir=$POSTMETER_STATE_DIR"
demo_psd="$demo_psd --provider-key=$top/data/keys/demo-provider.pub"
demo_work="$POSTMETER_DEMO_DIR/provider"
mkdir -p "$demo_work"

if [ -n "${POSTMETER_DEMO_DATACENTER:-}" ]; then
  demo_registers=$($demo_admin status)
  if printf '%s\n' "$demo_registers" | grep -qx 'descending \$0\.00'; then
    echo "demo: the PSD gets its operational block and \$500.00 from the data center"
    printf '2468\n' | $demo_admin refill 500.00
  else
    echo "demo: keeping the PSD already in $POSTMETER_STATE_DIR/psd and its funds"
  fi
elif $demo_psd status | grep -q '^operational-block no'; then
  echo "demo: giving the software PSD its operational block (origin 60601) and \$500.00"
  demo_serial=$($demo_psd export-key "$demo_work/psd.pub" | sed -n 's/^serial //p')
  "$demo_provider" operational-block --key "$top/data/keys/demo-provider.key" \
    --psd-key "$demo_work/psd.pub" --serial "$demo_serial" --zip 60601 \
    --max-funds 1000.00 --max-postage 100.00 --out "$demo_work/block.bin"
  $demo_psd install-block "$demo_work/block.bin" >/dev/null
  "$demo_provider" refill --key "$top/data/keys/demo-provider.key" \
    --serial "$demo_serial" --sequence 1 --amount 500.00 --out "$demo_work/refill-1.bin"
  $demo_psd refill "$demo_work/refill-1.bin" >/dev/null
  unset demo_serial
else
  echo "demo: keeping the PSD already in $POSTMETER_STATE_DIR/psd"
fi
$demo_psd export-key "$POSTMETER_DEMO_DIR/psd-public-key.pem" >/dev/null

# The devices, in the demo's own settings file.
export POSTMETER_PRINTED_DIR="$POSTMETER_DEMO_DIR/printed"
mkdir -p "$POSTMETER_PRINTED_DIR"
gsettings set org.postmeter.Kiosk scale-driver simulated
gsettings set org.postmeter.Kiosk scale-recording "$top/data/scale/dymo-m10-ounces.rec"
gsettings set org.postmeter.Kiosk printer-driver folder
gsettings set org.postmeter.Kiosk printer-folder "$POSTMETER_PRINTED_DIR"
gsettings set org.postmeter.Kiosk demo-controls true
echo "demo: printed envelopes (PDF and PNG) go to $POSTMETER_PRINTED_DIR"
echo "demo: check a printed indicium with" \
     "$POSTMETER_BUILDDIR/src/tools/postmeter-verify IMAGE.png" \
     "--key $POSTMETER_DEMO_DIR/psd-public-key.pem"
unset demo_registers demo_admin demo_provider demo_psd demo_work
