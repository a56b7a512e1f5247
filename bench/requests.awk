# requests.awk - JSON WorkRequests for `btf --persistent_worker`, one per module of the
# list read (paths relative to dir, one per line): `btf ARGS... -o OUT MODULE`, OUT being
# out/<path with / as _>.btf. Of the list, only lines lane, lane+p, lane+2p, ... (0-based):
# the share of one of p workers.
#
#   awk -f bench/requests.awk -v p=P -v lane=L -v dir=DIR -v out=OUTDIR \
#       -v args="$(printf '%s\n' ARGS...)" LIST
function q(s) {
  gsub(/\\/, "\\\\", s)
  gsub(/"/, "\\\"", s)
  return "\"" s "\""
}
BEGIN {
  n = split(args, a, "\n")
  pre = ""
  for (i = 1; i <= n; i++) pre = pre q(a[i]) ","
}
(NR - 1) % p == lane {
  o = $0
  gsub(/\//, "_", o)
  printf "{\"arguments\":[%s\"-o\",%s,%s],\"requestId\":0}\n", pre, q(out "/" o ".btf"), q(dir "/" $0)
}
