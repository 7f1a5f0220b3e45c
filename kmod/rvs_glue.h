/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rvs C glue: thin wrappers for kernel inline functions and macros that the Rust side of rvs.ko cannot call
 * directly, plus the static tables the kernel wants as C objects (generic netlink families, net_device_ops,
 * pernet and notifier blocks). Every function here is declared in kmod/glue.rs; keep the two in step. No datapath
 * logic lives here: callbacks forward to the rvs_rust_* functions, which are implemented in Rust.
 */
#ifndef RVS_GLUE_H
#define RVS_GLUE_H

#include <linux/types.h>

struct sk_buff;
struct net_device;
struct net;
struct genl_info;
struct netlink_callback;

/* ---- misc (rvs_glue.c) ---- */
const char *rvs_glue_kernel_release(void);
void rvs_glue_rcu_read_lock(void);
void rvs_glue_rcu_read_unlock(void);
void rvs_ovs_lock(void);
void rvs_ovs_unlock(void);
void rvs_rtnl_lock(void);
void rvs_rtnl_unlock(void);
void *rvs_kvzalloc(size_t size);
void rvs_kvfree(void *p);
void *rvs_blob_alloc(size_t len, bool atomic);
void rvs_blob_free(void *data);
void rvs_blob_free_rcu(void *data);
unsigned int rvs_nr_cpu_ids(void);
unsigned int rvs_smp_processor_id(void);
void rvs_local_bh_disable(void);
void rvs_local_bh_enable(void);
unsigned long rvs_jiffies(void);
u64 rvs_used_time_ms(unsigned long then);
u64 rvs_now_ms(void);
bool rvs_capable_net_admin(struct net *net);
void rvs_schedule_work(void);
void rvs_cancel_work(void);
void rvs_rebalance_start(void);
void rvs_rebalance_stop(void);

/* ---- generic netlink (genl_glue.c) ---- */
/* RVS_FAM_N: the Open vSwitch families, registered together; RVS_FAM_BRC (brcompat) is registered on its own. */
enum rvs_family { RVS_FAM_DP, RVS_FAM_VPORT, RVS_FAM_FLOW, RVS_FAM_PACKET, RVS_FAM_METER, RVS_FAM_N,
		  RVS_FAM_BRC = RVS_FAM_N, RVS_FAM_ALL };
int rvs_genl_register(const char **failed);
void rvs_genl_unregister(void);
const void *rvs_info_payload(const struct genl_info *info, size_t *len);
u32 rvs_info_portid(const struct genl_info *info);
u32 rvs_info_seq(const struct genl_info *info);
u16 rvs_info_nlflags(const struct genl_info *info);
struct net *rvs_info_net(const struct genl_info *info);
void rvs_info_set_err(struct genl_info *info, const char *msg, size_t len);
const void *rvs_cb_payload(const struct netlink_callback *cb, size_t *len);
long *rvs_cb_args(struct netlink_callback *cb);
u32 rvs_cb_portid(const struct netlink_callback *cb);
u32 rvs_cb_seq(const struct netlink_callback *cb);
struct net *rvs_cb_net(const struct netlink_callback *cb);
struct sk_buff *rvs_genlmsg_new(size_t payload, bool atomic);
void *rvs_genlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, int fam, int flags, u8 cmd);
void rvs_genlmsg_end(struct sk_buff *skb, void *hdr);
void rvs_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int rvs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
void rvs_genl_notify(int fam, struct sk_buff *skb, struct genl_info *info);
int rvs_genlmsg_unicast(struct net *net, struct sk_buff *skb, u32 portid);
int rvs_genl_multicast(int fam, struct net *net, struct sk_buff *skb);
bool rvs_genl_must_notify(int fam, struct genl_info *info);
u8 *rvs_skb_tail(struct sk_buff *skb, size_t *room);
void rvs_skb_put(struct sk_buff *skb, size_t len);

int rvs_genl_register_brc(void);
void rvs_genl_unregister_brc(void);

/* ---- brctl compatibility (brc_glue.c; protocol in brcompat.rs, kept equal) ---- */
#define RVS_BRC_FAMILY "rvs_brcompat"
enum { RVS_BRC_CMD_REGISTER = 1, RVS_BRC_CMD_REQUEST = 2, RVS_BRC_CMD_REPLY = 3, RVS_BRC_CMD_SET_MASTER = 4 };
enum {
	RVS_BRC_OP_ADDBR = 1, RVS_BRC_OP_DELBR, RVS_BRC_OP_ADDIF, RVS_BRC_OP_DELIF, RVS_BRC_OP_GET_BRIDGES,
	RVS_BRC_OP_GET_BRIDGE_INFO, RVS_BRC_OP_GET_PORT_LIST, RVS_BRC_OP_GET_FDB, RVS_BRC_OP_SET_AGEING,
	RVS_BRC_OP_SET_STP, RVS_BRC_OP_ADD_SLAVE, RVS_BRC_OP_DEL_SLAVE, RVS_BRC_OP_GET_PORT_INFO,
};
struct ifreq;
struct netlink_ext_ack;
struct rvs_brc_slot;
bool rvs_brc_enabled(void);
int rvs_brc_register(void);
void rvs_brc_unregister(void);
struct rvs_brc_slot *rvs_brc_slot_new(u8 *buf, size_t cap);
u32 rvs_brc_slot_seq(const struct rvs_brc_slot *s);
int rvs_brc_slot_wait(struct rvs_brc_slot *s, unsigned int timeout_ms, size_t *len);
int rvs_brc_slot_complete(u32 seq, int err, const u8 *data, size_t len);
int rvs_brc_siocdevprivate(struct net_device *dev, struct ifreq *ifr, void __user *data, int cmd);
int rvs_brc_add_slave(struct net_device *dev, struct net_device *slave, struct netlink_ext_ack *extack);
int rvs_brc_del_slave(struct net_device *dev, struct net_device *slave);
int rvs_brc_bridge_getlink(struct sk_buff *skb, u32 pid, u32 seq, struct net_device *dev, u32 filter_mask,
			   int nlflags);

/* ---- net devices (dev_glue.c) ---- */
int rvs_dev_register(void);
void rvs_dev_unregister(void);
struct net_device *rvs_internal_dev_create(struct net *net, const char *name, void *vport, int ifindex, bool local,
					   int *err);
void rvs_internal_dev_destroy(struct net_device *dev);
void *rvs_internal_dev_vport(struct net_device *dev);
int rvs_netdev_attach(struct net_device *dev, struct net_device *master, void *vport);
void rvs_netdev_detach(struct net_device *dev, struct net_device *master);
int rvs_port_relink(struct net_device *dev, struct net_device *from, struct net_device *to, struct net_device **linked);
struct net_device *rvs_dev_get_by_name(struct net *net, const char *name);
struct net_device *rvs_dev_get_by_index(struct net *net, int ifindex);
void rvs_dev_put(struct net_device *dev);
void rvs_dev_hold(struct net_device *dev);
const char *rvs_dev_name(const struct net_device *dev);
int rvs_dev_ifindex(const struct net_device *dev);
struct net *rvs_dev_net(const struct net_device *dev);
unsigned int rvs_dev_mtu(const struct net_device *dev);
bool rvs_dev_is_up(const struct net_device *dev);
void rvs_dev_stats(struct net_device *dev, u64 out[8]);
int rvs_peernet2id(struct net *net, struct net *peer);
bool rvs_net_eq(const struct net *a, const struct net *b);
void rvs_dev_tx_error(struct net_device *dev);
struct net_device *rvs_gretap_create(struct net *net, const char *name, int *err);
void rvs_tunnel_dev_delete(struct net_device *dev);

/* ---- sk_buff (skb_glue.c) ---- */
/* Tunnel metadata in host byte order (struct ip_tunnel_key of a metadata dst); kept equal to glue.rs's TunMeta. */
struct rvs_tun {
	u64 id;
	u32 ipv4_src;
	u32 ipv4_dst;
	u8 ipv6_src[16];
	u8 ipv6_dst[16];
	u16 flags; /* rvs key tun_flags: bit 0 key, 1 don't fragment, 2 csum, 3 oam */
	u8 tos;
	u8 ttl;
	u16 tp_src;
	u16 tp_dst;
	u8 ipv6;
	u8 pad[7];
};
u8 *rvs_skb_data(const struct sk_buff *skb);
unsigned int rvs_skb_len(const struct sk_buff *skb);
unsigned int rvs_skb_headlen(const struct sk_buff *skb);
bool rvs_skb_may_pull(struct sk_buff *skb, unsigned int len);
int rvs_skb_ensure_writable(struct sk_buff *skb, unsigned int len);
int rvs_skb_trim(struct sk_buff *skb, unsigned int len);
u32 rvs_skb_mark(const struct sk_buff *skb);
void rvs_skb_set_mark(struct sk_buff *skb, u32 v);
u32 rvs_skb_priority(const struct sk_buff *skb);
void rvs_skb_set_priority(struct sk_buff *skb, u32 v);
int rvs_skb_ip_summed(const struct sk_buff *skb);
void rvs_skb_csum_add(struct sk_buff *skb, u16 delta);
bool rvs_skb_vlan(const struct sk_buff *skb, u16 *tpid, u16 *tci);
int rvs_skb_vlan_push(struct sk_buff *skb, u16 tpid, u16 tci);
int rvs_skb_vlan_pop(struct sk_buff *skb);
u32 rvs_skb_get_hash(struct sk_buff *skb);
u32 rvs_skb_hash_raw(const struct sk_buff *skb);
u64 rvs_skb_upcall_hash(struct sk_buff *skb);
void rvs_skb_clear_hash(struct sk_buff *skb);
bool rvs_skb_is_gso(const struct sk_buff *skb);
struct sk_buff *rvs_skb_clone(struct sk_buff *skb);
void rvs_kfree_skb(struct sk_buff *skb);
void rvs_kfree_skb_reason(struct sk_buff *skb, u32 reason);

/* What the receive path reads of a packet (rvs_skb_rx_info). */
struct rvs_rx_info {
	const u8 *data;
	unsigned long jiffies;
	u32 headlen;
	u32 len;
	u32 priority;
	u32 mark;
	u32 hash;
	u32 cpu;
	u16 vlan_tpid;
	u16 vlan_tci;
	u8 has_vlan;
	u8 has_tunnel;
};
void rvs_skb_rx_info(struct sk_buff *skb, unsigned int pull, struct rvs_rx_info *out);
void rvs_skb_set_headers_proto(struct sk_buff *skb, int network, int transport, u16 protocol);
void rvs_skb_output(struct sk_buff *skb, struct net_device *dev);
bool rvs_skb_fits_len(const struct sk_buff *skb, unsigned int max_len);
void rvs_consume_skb(struct sk_buff *skb);
void rvs_skb_send(struct sk_buff *skb, struct net_device *dev);
void rvs_skb_internal_recv(struct sk_buff *skb, struct net_device *dev);
struct sk_buff *rvs_skb_upcall_prepare(struct sk_buff *skb, int *err);
int rvs_skb_copy_bits(const struct sk_buff *skb, int offset, void *to, int len);
struct sk_buff *rvs_skb_from_data(const void *data, unsigned int len);
void rvs_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
struct sk_buff *rvs_skb_gso_segment(struct sk_buff *skb, bool *udp, int *err);
struct sk_buff *rvs_skb_list_pop(struct sk_buff **list);
bool rvs_skb_tunnel_get(struct sk_buff *skb, struct rvs_tun *out);
int rvs_skb_tunnel_set(struct sk_buff *skb, const struct rvs_tun *tun);
void *rvs_tun_dst_new(const struct rvs_tun *tun);
void rvs_skb_tunnel_set_dst(struct sk_buff *skb, void *md);
void rvs_tun_dst_release_rcu(void *md);

#endif /* RVS_GLUE_H */
