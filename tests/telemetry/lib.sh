# Helpers of the telemetry tests (sourced, POSIX sh).

# police_blast SECS: UDP from netns telh1 to 10.77.0.2 (netns telh2) for SECS s, 1000-byte datagrams as fast as
# Python sends them; prints the kbit/s telh2's eth0 received (rx_bytes) over the blast.
police_blast() { blast_kbps telh1 telh2 10.77.0.2 "$1"; }

# police_check PREFIX V LOG RATE: the unpoliced blast runs above 3x RATE kbit/s; with telv1's ingress_policing_rate=RATE
# and a 1000 kbit burst (250 ms at 4000 kbit/s: a bucket that small loses refills when a busy host deschedules the
# test kernel for a while) it is within 60..130 % of RATE.
police_check() {
    p=$1 V=$2 log=$3 rate=$4
    free=$(police_blast 3); echo "$p: unpoliced: $free kbit/s"
    check "$p: unpoliced blast runs above 3x the limit ($free kbit/s)" test "$free" -gt $((rate * 3))
    check "$p: set ingress_policing_rate=$rate burst=1000" $V set interface telv1 ingress_policing_rate=$rate ingress_policing_burst=1000
    sleep 2.5
    check "$p: log says the port is policed" grep -q "telv1: ingress policing $rate kbit/s, burst 1000 kbit" "$log"
    pol=$(police_blast 3); echo "$p: policed at $rate: $pol kbit/s"
    check "$p: policed rate $pol kbit/s within 60..130 % of $rate" test "$pol" -ge $((rate * 6 / 10)) -a "$pol" -le $((rate * 13 / 10))
}

# police_clear PREFIX V RATE: clears telv1's policing; the blast runs above 3x RATE again.
police_clear() {
    p=$1 V=$2 rate=$3
    check "$p: clear policing" $V set interface telv1 ingress_policing_rate=0
    sleep 2.5
    again=$(police_blast 3); echo "$p: unpoliced again: $again kbit/s"
    check "$p: rate back above 3x the limit" test "$again" -gt $((rate * 3))
}
