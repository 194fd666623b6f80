# build-aux/demo.d/10-users.sh: the demo machine's users (sourced by build-aux/demo)
#
# A fresh demo state gets three users, made with postmeter-admin through the same
# access workflow as the kiosk (codes hashed with the real KDF, every change in the
# audit log). A state that already has users is left as it is. The codes are the ones
# README.md lists; they are for the demo only.
demo_admin="$POSTMETER_BUILDDIR/src/tools/postmeter-admin --state-dir=$POSTMETER_STATE_DIR"

if [ -z "$($demo_admin list-users)" ]; then
  echo "demo: creating the demo users (codes in README.md)"
  printf '2468\n' | $demo_admin set-up "Alex Morgan"
  printf '2468\n1357\n' | $demo_admin add-user "Jamie Lee" operator
  printf '2468\n9090\n' | $demo_admin add-user "Sam Rivera" support
else
  echo "demo: keeping the users already in $POSTMETER_STATE_DIR"
fi
unset demo_admin
