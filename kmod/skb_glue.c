// SPDX-License-Identifier: GPL-2.0
/* rvs C glue, sk_buff accessors and inline helpers: see rvs_glue.h. */
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/dst.h>
#include <net/dst_metadata.h>
#include <net/gso.h>
#include <net/ip_tunnels.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/xfrm.h>

#include "rvs_glue.h"

/* Flag bits of OVS_PACKET_ATTR_HASH (upstream datapath.h). */
#define OVS_PACKET_HASH_SW_BIT (1ULL << 32)
#define OVS_PACKET_HASH_L4_BIT (1ULL << 33)

u8 *rvs_skb_data(const struct sk_buff *skb)
{
	return skb->data;
}

unsigned int rvs_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

unsigned int rvs_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

bool rvs_skb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

int rvs_skb_ensure_writable(struct sk_buff *skb, unsigned int len)
{
	return skb_ensure_writable(skb, len);
}

int rvs_skb_trim(struct sk_buff *skb, unsigned int len)
{
	return pskb_trim(skb, len);
}

u32 rvs_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

void rvs_skb_set_mark(struct sk_buff *skb, u32 v)
{
	skb->mark = v;
}

u32 rvs_skb_priority(const struct sk_buff *skb)
{
	return skb->priority;
}

void rvs_skb_set_priority(struct sk_buff *skb, u32 v)
{
	skb->priority = v;
}

int rvs_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

/* `delta` is a one's-complement change of the big-endian 16-bit word sum of the data. */
void rvs_skb_csum_add(struct sk_buff *skb, u16 delta)
{
	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->csum = csum_add(skb->csum, (__force __wsum)(u32)(__force u16)htons(delta));
}

bool rvs_skb_vlan(const struct sk_buff *skb, u16 *tpid, u16 *tci)
{
	if (!skb_vlan_tag_present(skb))
		return false;
	*tpid = ntohs(skb->vlan_proto);
	*tci = skb_vlan_tag_get(skb);
	return true;
}

int rvs_skb_vlan_push(struct sk_buff *skb, u16 tpid, u16 tci)
{
	return skb_vlan_push(skb, htons(tpid), tci);
}

int rvs_skb_vlan_pop(struct sk_buff *skb)
{
	return skb_vlan_pop(skb);
}

u32 rvs_skb_get_hash(struct sk_buff *skb)
{
	return skb_get_hash(skb);
}

/* The hash the skb already carries (from the NIC, RPS or an earlier dissection), 0 if none. */
u32 rvs_skb_hash_raw(const struct sk_buff *skb)
{
	return skb_get_hash_raw(skb);
}

/* OVS_PACKET_ATTR_HASH: the hash plus upstream's software/L4 flag bits. */
u64 rvs_skb_upcall_hash(struct sk_buff *skb)
{
	u64 hash = skb_get_hash_raw(skb);

	if (skb->sw_hash)
		hash |= OVS_PACKET_HASH_SW_BIT;
	if (skb->l4_hash)
		hash |= OVS_PACKET_HASH_L4_BIT;
	return hash;
}

void rvs_skb_clear_hash(struct sk_buff *skb)
{
	skb_clear_hash(skb);
}

static void rvs_skb_set_headers(struct sk_buff *skb, int network, int transport)
{
	skb_reset_mac_header(skb);
	if (network >= 0)
		skb_set_network_header(skb, network);
	if (transport >= 0)
		skb_set_transport_header(skb, transport);
	skb_reset_mac_len(skb);
}

bool rvs_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

struct sk_buff *rvs_skb_clone(struct sk_buff *skb)
{
	return skb_clone(skb, GFP_ATOMIC);
}

void rvs_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* Frees with an openvswitch-subsystem drop reason (SKB_DROP_REASON_SUBSYS_OPENVSWITCH << 16 | n). */
void rvs_kfree_skb_reason(struct sk_buff *skb, u32 reason)
{
	kfree_skb_reason(skb, (enum skb_drop_reason)reason);
}

/* check_pkt_len: whether the frame (every segment of a GSO packet) is at most max_len bytes from the MAC header. */
bool rvs_skb_fits_len(const struct sk_buff *skb, unsigned int max_len)
{
	return (skb_is_gso(skb) && skb_gso_validate_mac_len(skb, max_len)) || skb->len <= max_len;
}

void rvs_consume_skb(struct sk_buff *skb)
{
	consume_skb(skb);
}

/* Output to a netdev port (upstream ovs_vport_send + netdev_send). */
/*
 * Everything the receive path reads of a fresh packet, in one call: makes the first `pull` bytes linear (as far as
 * the packet goes) and reports the linear area, lengths, metadata, offloaded VLAN tag, hash, whether it carries
 * receive tunnel metadata, and the CPU and jiffies for the flow statistics.
 */
void rvs_skb_rx_info(struct sk_buff *skb, unsigned int pull, struct rvs_rx_info *out)
{
	const struct ip_tunnel_info *info;

	pskb_may_pull(skb, min(pull, skb->len));
	out->data = skb->data;
	out->headlen = skb_headlen(skb);
	out->len = skb->len;
	out->priority = skb->priority;
	out->mark = skb->mark;
	out->hash = skb_get_hash_raw(skb);
	out->has_vlan = skb_vlan_tag_present(skb);
	out->vlan_tpid = out->has_vlan ? ntohs(skb->vlan_proto) : 0;
	out->vlan_tci = out->has_vlan ? skb_vlan_tag_get(skb) : 0;
	info = skb_tunnel_info(skb);
	out->has_tunnel = info && !(info->mode & IP_TUNNEL_INFO_TX);
	out->cpu = smp_processor_id();
	out->jiffies = jiffies;
}

/* Sets the header offsets found by extraction (negative: none) and skb->protocol (host order) in one call. */
void rvs_skb_set_headers_proto(struct sk_buff *skb, int network, int transport, u16 protocol)
{
	rvs_skb_set_headers(skb, network, transport);
	skb->protocol = htons(protocol);
}

/*
 * Output to a netdev port (upstream ovs_vport_send + packet_length): drops a non-GSO packet whose L3 length exceeds
 * the device MTU (counted as a tx error), else transmits it.
 */
void rvs_skb_output(struct sk_buff *skb, struct net_device *dev)
{
	int length = (int)skb->len - ETH_HLEN;

	if (!skb_vlan_tag_present(skb) && eth_type_vlan(skb->protocol))
		length -= VLAN_HLEN;
	if (unlikely(length > (int)dev->mtu && !skb_is_gso(skb))) {
		DEV_STATS_INC(dev, tx_errors);
		kfree_skb(skb);
		return;
	}
	rvs_skb_send(skb, dev);
}

void rvs_skb_send(struct sk_buff *skb, struct net_device *dev)
{
	skb->dev = dev;
	skb_clear_tstamp(skb);
	dev_queue_xmit(skb);
}

/* Output to an internal port: the packet is received by the host stack (upstream internal_dev_recv). */
void rvs_skb_internal_recv(struct sk_buff *skb, struct net_device *dev)
{
	if (unlikely(!(dev->flags & IFF_UP))) {
		kfree_skb(skb);
		DEV_STATS_INC(dev, rx_dropped);
		return;
	}
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	secpath_reset(skb);
	skb->pkt_type = PACKET_HOST;
	skb->protocol = eth_type_trans(skb, dev);
	skb_postpull_rcsum(skb, eth_hdr(skb), ETH_HLEN);
	dev_sw_netstats_rx_add(dev, skb->len);
	netif_rx(skb);
}

/*
 * The skb whose bytes go into an upcall: a clone with the offloaded VLAN tag pushed into the data if there is one,
 * else skb itself; either way with its checksum completed. Returns NULL (and *err) on failure; a returned skb other
 * than `skb` is the caller's to free.
 */
struct sk_buff *rvs_skb_upcall_prepare(struct sk_buff *skb, int *err)
{
	struct sk_buff *nskb = skb;

	*err = 0;
	if (skb_vlan_tag_present(skb)) {
		nskb = skb_clone(skb, GFP_ATOMIC);
		if (!nskb) {
			*err = -ENOMEM;
			return NULL;
		}
		nskb = __vlan_hwaccel_push_inside(nskb);
		if (!nskb) {
			*err = -ENOMEM;
			return NULL;
		}
	}
	if (nskb->ip_summed == CHECKSUM_PARTIAL) {
		*err = skb_checksum_help(nskb);
		if (*err) {
			if (nskb != skb)
				kfree_skb(nskb);
			return NULL;
		}
	}
	return nskb;
}

int rvs_skb_copy_bits(const struct sk_buff *skb, int offset, void *to, int len)
{
	return skb_copy_bits(skb, offset, to, len);
}

/* A new packet holding a copy of `data` (OVS_PACKET_CMD_EXECUTE). */
struct sk_buff *rvs_skb_from_data(const void *data, unsigned int len)
{
	struct sk_buff *skb = __dev_alloc_skb(NET_IP_ALIGN + len, GFP_KERNEL);

	if (!skb)
		return NULL;
	skb_reserve(skb, NET_IP_ALIGN);
	skb_put_data(skb, data, len);
	return skb;
}

void rvs_skb_set_dev(struct sk_buff *skb, struct net_device *dev)
{
	skb->dev = dev;
}

/*
 * Software segmentation of a GSO packet for an upcall (upstream queue_gso_packets): the list of segments, or NULL
 * with *err set. *udp: UDP fragmentation offload (segments after the first are later fragments).
 */
struct sk_buff *rvs_skb_gso_segment(struct sk_buff *skb, bool *udp, int *err)
{
	struct sk_buff *segs;

	*udp = skb_shinfo(skb)->gso_type & SKB_GSO_UDP;
	segs = __skb_gso_segment(skb, NETIF_F_SG, false);
	if (IS_ERR(segs)) {
		*err = PTR_ERR(segs);
		return NULL;
	}
	if (!segs) {
		*err = -EINVAL;
		return NULL;
	}
	*err = 0;
	return segs;
}

/* Detaches and returns the first skb of a list (NULL when empty). */
struct sk_buff *rvs_skb_list_pop(struct sk_buff **list)
{
	struct sk_buff *skb = *list;

	if (skb) {
		*list = skb->next;
		skb_mark_not_on_list(skb);
	}
	return skb;
}

#define RVS_TUN_KEY (1 << 0)
#define RVS_TUN_DF (1 << 1)
#define RVS_TUN_CSUM (1 << 2)
#define RVS_TUN_OAM (1 << 3)

/* The receive-side tunnel metadata of a packet from a collect_md tunnel device (upstream ovs_flow_key_extract). */
bool rvs_skb_tunnel_get(struct sk_buff *skb, struct rvs_tun *out)
{
	const struct ip_tunnel_info *info = skb_tunnel_info(skb);
	const struct ip_tunnel_key *k;

	if (!info || (info->mode & IP_TUNNEL_INFO_TX))
		return false;
	k = &info->key;
	memset(out, 0, sizeof(*out));
	out->id = be64_to_cpu(k->tun_id);
	if (ip_tunnel_info_af(info) == AF_INET6) {
		out->ipv6 = 1;
		memcpy(out->ipv6_src, &k->u.ipv6.src, 16);
		memcpy(out->ipv6_dst, &k->u.ipv6.dst, 16);
	} else {
		out->ipv4_src = be32_to_cpu(k->u.ipv4.src);
		out->ipv4_dst = be32_to_cpu(k->u.ipv4.dst);
	}
	if (test_bit(IP_TUNNEL_KEY_BIT, k->tun_flags))
		out->flags |= RVS_TUN_KEY;
	if (test_bit(IP_TUNNEL_DONT_FRAGMENT_BIT, k->tun_flags))
		out->flags |= RVS_TUN_DF;
	if (test_bit(IP_TUNNEL_CSUM_BIT, k->tun_flags))
		out->flags |= RVS_TUN_CSUM;
	if (test_bit(IP_TUNNEL_OAM_BIT, k->tun_flags))
		out->flags |= RVS_TUN_OAM;
	out->tos = k->tos;
	out->ttl = k->ttl;
	out->tp_src = be16_to_cpu(k->tp_src);
	out->tp_dst = be16_to_cpu(k->tp_dst);
	return true;
}

/*
 * Egress tunnel metadata (upstream set(tunnel_info)): a fresh metadata dst describing the outer header replaces the
 * packet's dst; a collect_md tunnel device transmitting the packet builds the outer header from it.
 */
static void rvs_tun_fill(struct ip_tunnel_info *info, const struct rvs_tun *tun)
{
	struct ip_tunnel_key *k = &info->key;

	info->mode = IP_TUNNEL_INFO_TX;
	k->tun_id = cpu_to_be64(tun->id);
	if (tun->ipv6) {
		info->mode |= IP_TUNNEL_INFO_IPV6;
		memcpy(&k->u.ipv6.src, tun->ipv6_src, 16);
		memcpy(&k->u.ipv6.dst, tun->ipv6_dst, 16);
	} else {
		k->u.ipv4.src = cpu_to_be32(tun->ipv4_src);
		k->u.ipv4.dst = cpu_to_be32(tun->ipv4_dst);
	}
	if (tun->flags & RVS_TUN_KEY)
		__set_bit(IP_TUNNEL_KEY_BIT, k->tun_flags);
	if (tun->flags & RVS_TUN_DF)
		__set_bit(IP_TUNNEL_DONT_FRAGMENT_BIT, k->tun_flags);
	if (tun->flags & RVS_TUN_CSUM)
		__set_bit(IP_TUNNEL_CSUM_BIT, k->tun_flags);
	if (tun->flags & RVS_TUN_OAM)
		__set_bit(IP_TUNNEL_OAM_BIT, k->tun_flags);
	k->tos = tun->tos;
	k->ttl = tun->ttl;
	k->tp_src = cpu_to_be16(tun->tp_src);
	k->tp_dst = cpu_to_be16(tun->tp_dst);
}

int rvs_skb_tunnel_set(struct sk_buff *skb, const struct rvs_tun *tun)
{
	struct metadata_dst *md = metadata_dst_alloc(0, METADATA_IP_TUNNEL, GFP_ATOMIC);

	if (!md)
		return -ENOMEM;
	rvs_tun_fill(&md->u.tun_info, tun);
	skb_dst_drop(skb);
	skb_dst_set(skb, &md->dst);
	return 0;
}

/*
 * A flow's set(tunnel) metadata dst, built once when the actions are installed (as upstream does); the flow owns
 * one reference. Process context. NULL without memory.
 */
void *rvs_tun_dst_new(const struct rvs_tun *tun)
{
	struct metadata_dst *md = metadata_dst_alloc(0, METADATA_IP_TUNNEL, GFP_KERNEL);

	if (md)
		rvs_tun_fill(&md->u.tun_info, tun);
	return md;
}

/* set(tunnel) with a flow's prebuilt dst: the packet takes its own reference. Under RCU (the flow's reference is
 * dropped only after a grace period). */
void rvs_skb_tunnel_set_dst(struct sk_buff *skb, void *md)
{
	struct dst_entry *dst = &((struct metadata_dst *)md)->dst;

	dst_hold(dst);
	skb_dst_drop(skb);
	skb_dst_set(skb, dst);
}

struct rvs_dst_rel {
	struct rcu_head rcu;
	struct dst_entry *dst;
};

static void rvs_dst_rel_cb(struct rcu_head *head)
{
	struct rvs_dst_rel *r = container_of(head, struct rvs_dst_rel, rcu);

	dst_release(r->dst);
	kfree(r);
}

/* Drops a flow's reference to its prebuilt dst after a grace period (readers may still be using the pointer). */
void rvs_tun_dst_release_rcu(void *md)
{
	struct rvs_dst_rel *r;

	if (!md)
		return;
	r = kmalloc(sizeof(*r), GFP_ATOMIC);
	if (!r) {
		synchronize_rcu();
		dst_release(&((struct metadata_dst *)md)->dst);
		return;
	}
	r->dst = &((struct metadata_dst *)md)->dst;
	call_rcu(&r->rcu, rvs_dst_rel_cb);
}
