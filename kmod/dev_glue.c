// SPDX-License-Identifier: GPL-2.0
/*
 * rvs C glue, net devices: the internal port device (net_device_ops, setup), the rx_handler hook of netdev ports,
 * the netdevice notifier and the pernet operations. Each callback forwards to Rust (rvs_rust_*).
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <net/gre.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>

#include "rvs_glue.h"

/* Implemented in Rust. */
int rvs_rust_internal_xmit(void *vport, struct sk_buff *skb);
void rvs_rust_netdev_rx(void *vport, struct sk_buff *skb);
void rvs_rust_dev_unregister(void *vport, struct net_device *dev);
void rvs_rust_net_exit(struct net *net);

struct rvs_internal {
	void *vport;
};

static netdev_tx_t rvs_internal_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct rvs_internal *priv = netdev_priv(dev);
	unsigned int len = skb->len;
	int err;

	rcu_read_lock();
	err = rvs_rust_internal_xmit(priv->vport, skb);
	rcu_read_unlock();
	if (likely(!err))
		dev_sw_netstats_tx_add(dev, 1, len);
	else
		dev->stats.tx_errors++;
	return NETDEV_TX_OK;
}

static int rvs_internal_open(struct net_device *dev)
{
	netif_start_queue(dev);
	return 0;
}

static int rvs_internal_stop(struct net_device *dev)
{
	netif_stop_queue(dev);
	return 0;
}

static void rvs_internal_getinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	/* ovs-vswitchd recognises internal ports by this driver name. */
	strscpy(info->driver, "openvswitch", sizeof(info->driver));
}

static const struct ethtool_ops rvs_internal_ethtool_ops = {
	.get_drvinfo = rvs_internal_getinfo,
	.get_link = ethtool_op_get_link,
};

static const struct net_device_ops rvs_internal_netdev_ops = {
	.ndo_open = rvs_internal_open,
	.ndo_stop = rvs_internal_stop,
	.ndo_start_xmit = rvs_internal_xmit,
	.ndo_set_mac_address = eth_mac_addr,
	/* brctl compatibility (brc_glue.c): EOPNOTSUPP unless the module option brcompat=1. */
	.ndo_siocdevprivate = rvs_brc_siocdevprivate,
	.ndo_add_slave = rvs_brc_add_slave,
	.ndo_del_slave = rvs_brc_del_slave,
};

/* No dellink: `ip link del` of an internal port is refused (EOPNOTSUPP), as upstream. */
static struct rtnl_link_ops rvs_internal_link_ops __read_mostly = {
	.kind = "openvswitch",
};

static void rvs_internal_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->max_mtu = ETH_MAX_MTU;
	dev->netdev_ops = &rvs_internal_netdev_ops;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_OPENVSWITCH | IFF_NO_QUEUE;
	dev->lltx = true;
	dev->needs_free_netdev = true;
	dev->priv_destructor = NULL;
	dev->ethtool_ops = &rvs_internal_ethtool_ops;
	dev->rtnl_link_ops = &rvs_internal_link_ops;
	dev->features = NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HIGHDMA | NETIF_F_HW_CSUM | NETIF_F_GSO_SOFTWARE;
	dev->vlan_features = dev->features;
	dev->hw_enc_features = dev->features;
	dev->features |= NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX;
	dev->hw_features = dev->features;
	eth_hw_addr_random(dev);
}

/* Caller holds rtnl. */
struct net_device *rvs_internal_dev_create(struct net *net, const char *name, void *vport, int ifindex, bool local,
					   int *err)
{
	struct net_device *dev;
	struct rvs_internal *priv;

	dev = alloc_netdev(sizeof(struct rvs_internal), name, NET_NAME_USER, rvs_internal_setup);
	if (!dev) {
		*err = -ENOMEM;
		return NULL;
	}
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev_net_set(dev, net);
	dev->ifindex = ifindex;
	priv = netdev_priv(dev);
	priv->vport = vport;
	if (local)
		dev->netns_immutable = true;
	*err = register_netdevice(dev);
	if (*err) {
		free_netdev(dev);
		return NULL;
	}
	dev_set_promiscuity(dev, 1);
	netif_start_queue(dev);
	return dev;
}

/* Caller holds rtnl. The device is freed by the core once its last reference is gone. */
void rvs_internal_dev_destroy(struct net_device *dev)
{
	netif_stop_queue(dev);
	dev_set_promiscuity(dev, -1);
	unregister_netdevice(dev);
}

static bool rvs_is_internal(const struct net_device *dev)
{
	return dev->netdev_ops == &rvs_internal_netdev_ops;
}

void *rvs_internal_dev_vport(struct net_device *dev)
{
	if (!rvs_is_internal(dev))
		return NULL;
	return ((struct rvs_internal *)netdev_priv(dev))->vport;
}

/* rx_handler of netdev ports: runs under rcu_read_lock in the receive path. */
static rx_handler_result_t rvs_frame_hook(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	void *vport;

	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;
	vport = rcu_dereference(skb->dev->rx_handler_data);
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (unlikely(!skb))
		return RX_HANDLER_CONSUMED;
	skb_push_rcsum(skb, ETH_HLEN);
	rvs_rust_netdev_rx(vport, skb);
	return RX_HANDLER_CONSUMED;
}

/* Caller holds rtnl. */
int rvs_netdev_attach(struct net_device *dev, struct net_device *master, void *vport)
{
	int err;

	if ((dev->flags & IFF_LOOPBACK) || dev->type != ARPHRD_ETHER || rvs_is_internal(dev))
		return -EINVAL;
	err = netdev_master_upper_dev_link(dev, master, NULL, NULL, NULL);
	if (err)
		return err;
	err = netdev_rx_handler_register(dev, rvs_frame_hook, vport);
	if (err) {
		netdev_upper_dev_unlink(dev, master);
		return err;
	}
	dev_disable_lro(dev);
	dev_set_promiscuity(dev, 1);
	dev->priv_flags |= IFF_OVS_DATAPATH;
	return 0;
}

/* Caller holds rtnl. Waits for the receive path to leave the hook (netdev_rx_handler_unregister). */
void rvs_netdev_detach(struct net_device *dev, struct net_device *master)
{
	dev->priv_flags &= ~IFF_OVS_DATAPATH;
	netdev_rx_handler_unregister(dev);
	netdev_upper_dev_unlink(dev, master);
	dev_set_promiscuity(dev, -1);
}

static int rvs_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	void *vport = NULL;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	if (rvs_is_internal(dev))
		vport = ((struct rvs_internal *)netdev_priv(dev))->vport;
	else if (rcu_access_pointer(dev->rx_handler) == rvs_frame_hook)
		vport = rtnl_dereference(dev->rx_handler_data);
	if (vport)
		rvs_rust_dev_unregister(vport, dev);
	return NOTIFY_DONE;
}

static struct notifier_block rvs_netdev_notifier = {
	.notifier_call = rvs_netdev_event,
};

static void __net_exit rvs_net_exit(struct net *net)
{
	rvs_rust_net_exit(net);
}

static struct pernet_operations rvs_net_ops = {
	.exit = rvs_net_exit,
};

static int rvs_dev_state;

int rvs_dev_register(void)
{
	int err;

	err = rtnl_link_register(&rvs_internal_link_ops);
	if (err)
		return err;
	err = register_pernet_device(&rvs_net_ops);
	if (err)
		goto err_link;
	err = register_netdevice_notifier(&rvs_netdev_notifier);
	if (err)
		goto err_pernet;
	rvs_dev_state = 1;
	return 0;

err_pernet:
	unregister_pernet_device(&rvs_net_ops);
err_link:
	rtnl_link_unregister(&rvs_internal_link_ops);
	return err;
}

void rvs_dev_unregister(void)
{
	if (!rvs_dev_state)
		return;
	unregister_netdevice_notifier(&rvs_netdev_notifier);
	unregister_pernet_device(&rvs_net_ops);
	rtnl_link_unregister(&rvs_internal_link_ops);
	rvs_dev_state = 0;
}

struct net_device *rvs_dev_get_by_name(struct net *net, const char *name)
{
	return dev_get_by_name(net, name);
}

struct net_device *rvs_dev_get_by_index(struct net *net, int ifindex)
{
	return dev_get_by_index(net, ifindex);
}

void rvs_dev_put(struct net_device *dev)
{
	dev_put(dev);
}

const char *rvs_dev_name(const struct net_device *dev)
{
	return dev->name;
}

int rvs_dev_ifindex(const struct net_device *dev)
{
	return dev->ifindex;
}

struct net *rvs_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

unsigned int rvs_dev_mtu(const struct net_device *dev)
{
	return dev->mtu;
}

bool rvs_dev_is_up(const struct net_device *dev)
{
	return dev->flags & IFF_UP;
}

void rvs_dev_stats(struct net_device *dev, u64 out[8])
{
	struct rtnl_link_stats64 s;

	dev_get_stats(dev, &s);
	out[0] = s.rx_packets;
	out[1] = s.tx_packets;
	out[2] = s.rx_bytes;
	out[3] = s.tx_bytes;
	out[4] = s.rx_errors;
	out[5] = s.tx_errors;
	out[6] = s.rx_dropped;
	out[7] = s.tx_dropped;
}

int rvs_peernet2id(struct net *net, struct net *peer)
{
	return peernet2id_alloc(net, peer, GFP_KERNEL);
}

bool rvs_net_eq(const struct net *a, const struct net *b)
{
	return net_eq(a, b);
}

void rvs_dev_tx_error(struct net_device *dev)
{
	DEV_STATS_INC(dev, tx_errors);
}

void rvs_dev_hold(struct net_device *dev)
{
	dev_hold(dev);
}

/* OVS_VPORT_TYPE_GRE (upstream vport-gre.c): a collect_md gretap device named `name`, up. Caller holds rtnl. */
struct net_device *rvs_gretap_create(struct net *net, const char *name, int *err)
{
	struct net_device *dev = gretap_fb_dev_create(net, name, NET_NAME_USER);

	if (IS_ERR(dev)) {
		*err = PTR_ERR(dev);
		return NULL;
	}
	*err = dev_change_flags(dev, dev->flags | IFF_UP, NULL);
	if (*err < 0) {
		rtnl_delete_link(dev, 0, NULL);
		return NULL;
	}
	return dev;
}

/* Deletes a tunnel device rvs created, unless it is already going away. Caller holds rtnl. */
void rvs_tunnel_dev_delete(struct net_device *dev)
{
	if (dev->reg_state == NETREG_REGISTERED)
		rtnl_delete_link(dev, 0, NULL);
}
