# requests.awk - JSON WorkRequests for `btf --persistent_worker`, one per module of the
# list read (paths relative to DIR, one per line): `btf ARGS... -o OUT MODULE`, OUT being
# OUT/<path with / as _>.btf. Of the list, only lines lane, lane+p, lane+2p, ... (0-based):
# the share of one of p workers. Paths and arguments come from the environment, which awk
# takes as they are (-v would interpret backslashes).
#
#   DIR=... OUT=... ARGS="$(printf '%s\n' ARGS...)" awk -f bench/requests.awk -v p=P -v lane=L LIST
function q(s) {
  gsub(/\\/, "&&", s)
  gsub(/"/, "\\\"", s)
  gsub(/\t/, "\\t", s)
  return "\"" s "\""
}
BEGIN {
  dir = ENVIRON["DIR"]
  out = ENVIRON["OUT"]
  n = split(ENVIRON["ARGS"], a, "\n")
  pre = ""
  for (i = 1; i <= n; i++) pre = pre q(a[i]) ","
}
(NR - 1) % p == lane {
  o = $0
  gsub(/\//, "_", o)
  printf "{\"arguments\":[%s\"-o\",%s,%s],\"requestId\":0}\n", pre, q(out "/" o ".btf"), q(dir "/" $0)
}
