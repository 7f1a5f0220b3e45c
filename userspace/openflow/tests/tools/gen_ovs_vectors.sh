#!/bin/sh
# Regenerates tests/vectors/ovs/*.hex: the messages Debian's ovs-ofctl sends for a set of
# commands (captured by capture_ofctl.py), one hex message per line. Needs ovs-ofctl.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../vectors/ovs"
mkdir -p "$out"
# flows.tsv: NAME, VERSION, COMMAND, FLOW of every flow-mod command (for the text parser test).
: > "$out/flows.tsv"
cap() { # NAME VERSION [--strict] CMD ARGS...
    name=$1; shift
    cmd=$2; [ "$cmd" = --strict ] && cmd="$2 $3"
    case "$cmd" in *-flow*) printf '%s\t%s\t%s\t%s\n' "$name" "$1" "$cmd" "$(eval echo \"\${$#}\")" >> "$out/flows.tsv";; esac
    [ -n "${LIST_ONLY:-}" ] || python3 "$here/capture_ofctl.py" "$@" > "$out/$name.hex"
}
PKT=ffffffffffff00112233445508060001080006040001001122334455c0a80001000000000000c0a80002
for v in 10 13; do
    V=OpenFlow$v
    cap of$v-add-flow-l2 $V add-flow "priority=100,in_port=1,dl_src=00:11:22:33:44:55,dl_dst=00:00:00:00:00:02,dl_vlan=10,dl_vlan_pcp=3,actions=strip_vlan,output:2"
    cap of$v-add-flow-tcp $V add-flow "cookie=0x123,idle_timeout=30,hard_timeout=60,send_flow_rem,check_overlap,priority=5,tcp,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,nw_tos=32,tp_src=1000,tp_dst=80,actions=mod_nw_src:1.2.3.4,mod_nw_dst:4.3.2.1,mod_tp_src:1,mod_tp_dst:2,mod_nw_tos:16,output:NORMAL"
    cap of$v-add-flow-arp $V add-flow "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,actions=FLOOD"
    cap of$v-add-flow-icmp $V add-flow "icmp,icmp_type=8,icmp_code=0,actions=ALL,LOCAL,IN_PORT,CONTROLLER:128"
    cap of$v-add-flow-rewrite $V add-flow "in_port=LOCAL,vlan_tci=0x0000,actions=mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,mod_vlan_vid:7,mod_vlan_pcp:2,enqueue:1:3"
    cap of$v-add-flow-udp $V add-flow "udp,dl_vlan=5,udp_src=68,udp_dst=67,actions=output:3"
    cap of$v-mod-flows $V mod-flows "tcp,actions=output:5"
    cap of$v-mod-flows-strict $V --strict mod-flows "priority=100,in_port=1,actions=drop"
    cap of$v-del-flows-all $V del-flows
    cap of$v-del-flows-out-port $V del-flows "out_port=2,ip"
    cap of$v-del-flows-strict $V --strict del-flows "priority=100,in_port=1"
    cap of$v-dump-flows $V dump-flows "tcp,tp_dst=80"
    cap of$v-dump-aggregate $V dump-aggregate
    cap of$v-dump-tables $V dump-tables
    cap of$v-dump-ports $V dump-ports
    cap of$v-dump-ports-1 $V dump-ports 1
    cap of$v-dump-ports-desc $V dump-ports-desc
    cap of$v-queue-stats $V queue-stats
    cap of$v-dump-desc $V dump-desc
    cap of$v-show $V show
    cap of$v-set-frags $V set-frags drop
    cap of$v-probe $V probe
    cap of$v-packet-out $V packet-out "in_port=1 packet=$PKT actions=output:2"
done
V=OpenFlow13
cap of13-add-flow-ipv6 $V add-flow "udp6,ipv6_src=2001:db8::/32,ipv6_dst=2001:db8::1,ipv6_label=0x12345,udp_dst=53,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:3"
cap of13-add-flow-nd-ns $V add-flow "icmp6,icmp_type=135,nd_target=fe80::1,nd_sll=00:11:22:33:44:55,actions=CONTROLLER:65535"
cap of13-add-flow-nd-na $V add-flow "icmp6,icmp_type=136,icmp_code=0,nd_target=fe80::1,nd_tll=00:11:22:33:44:66,actions=drop"
cap of13-add-flow-arp-full $V add-flow "arp,arp_op=2,arp_sha=00:11:22:33:44:55,arp_tha=00:00:00:00:00:00/01:00:00:00:00:00,actions=set_field:00:00:00:00:00:09->eth_src,output:1"
cap of13-add-flow-sctp $V add-flow "sctp,sctp_src=1,sctp_dst=2,actions=group:5"
cap of13-add-flow-meta $V add-flow "table=1,tun_id=0x1234/0xffff,metadata=0x5/0xff,actions=set_queue:3,output:1,write_metadata:0x10/0xff,goto_table:2"
cap of13-add-flow-inst $V add-flow "table=2,ip,ip_dscp=46,nw_ecn=1,actions=meter:1,mod_nw_ttl:5,dec_ttl,clear_actions,write_actions(set_field:2->ip_dscp,output:3),goto_table:4"
cap of13-add-flow-mpls $V add-flow "ip,actions=push_mpls:0x8847,set_field:10->mpls_label,set_mpls_ttl:9,output:1"
cap of13-add-flow-mpls2 $V add-flow "mpls,mpls_label=10,mpls_tc=1,mpls_bos=1,actions=dec_mpls_ttl,pop_mpls:0x0800,output:1"
cap of13-add-flow-masks $V add-flow "tcp,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_src=10.1.0.0/255.255.0.255,tp_src=0x1000/0xf000,actions=output:1"
cap of13-add-flow-reset $V add-flow "reset_counts,in_port=3,actions=output:1"
cap of13-del-flows-cookie $V del-flows "cookie=0x10/0xff,out_group=5,table=3"
cap of13-dump-flows-table $V dump-flows "table=1,cookie=0x1/-1,ip"
cap of13-add-group-all $V add-group "group_id=1,type=all,bucket=output:1,bucket=output:2"
cap of13-add-group-select $V add-group "group_id=2,type=select,bucket=weight:100,output:1,bucket=weight:50,output:2"
cap of13-add-group-indirect $V add-group "group_id=3,type=indirect,bucket=set_field:00:00:00:00:00:01->eth_dst,output:1"
cap of13-add-group-ff $V add-group "group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2"
cap of13-mod-group $V mod-group "group_id=1,type=all,bucket=output:3"
cap of13-del-groups $V del-groups "group_id=1"
cap of13-del-groups-all $V del-groups
cap of13-dump-groups $V dump-groups
cap of13-dump-group-stats $V dump-group-stats
cap of13-dump-group-features $V dump-group-features
cap of13-add-meter-drop $V add-meter "meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100"
cap of13-add-meter-dscp $V add-meter "meter=2,pktps,bands=type=dscp_remark,rate=100,prec_level=1"
cap of13-mod-meter $V mod-meter "meter=1,kbps,bands=type=drop,rate=2000"
cap of13-del-meters $V del-meters
cap of13-dump-meters $V dump-meters
cap of13-meter-stats $V meter-stats
cap of13-meter-features $V meter-features
cap of13-dump-table-features $V dump-table-features
