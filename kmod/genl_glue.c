// SPDX-License-Identifier: GPL-2.0
/*
 * rvs C glue, generic netlink: the five Open vSwitch datapath families with their upstream names, versions,
 * commands, permissions and multicast groups. Attributes are not parsed here (no policy tables: maxattr is 0);
 * every request is handed whole to Rust (rvs_rust_doit / rvs_rust_dumpit), which validates it with the shared
 * core's netlink codec.
 */
#include <linux/openvswitch.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "rvs_glue.h"

/* Implemented in Rust. */
int rvs_rust_doit(int fam, u8 cmd, struct genl_info *info);
int rvs_rust_dumpit(int fam, u8 cmd, struct sk_buff *skb, struct netlink_callback *cb);

static struct genl_family rvs_families[RVS_FAM_ALL];

static int rvs_fam_index(const struct genl_family *f)
{
	int i;

	for (i = 0; i < RVS_FAM_ALL; i++)
		if (f == &rvs_families[i])
			return i;
	return -1;
}

static int rvs_doit(struct sk_buff *skb, struct genl_info *info)
{
	int fam = rvs_fam_index(info->family);

	if (fam < 0)
		return -EINVAL;
	return rvs_rust_doit(fam, info->genlhdr->cmd, info);
}

static int rvs_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *di = genl_dumpit_info(cb);
	int fam = rvs_fam_index(di->info.family);

	if (fam < 0)
		return -EINVAL;
	return rvs_rust_dumpit(fam, di->info.genlhdr->cmd, skb, cb);
}

#define RVS_VALIDATE (GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP)
#define RVS_OP_ADMIN(c) { .cmd = (c), .validate = RVS_VALIDATE, .flags = GENL_UNS_ADMIN_PERM, .doit = rvs_doit }
#define RVS_OP_GET(c) { .cmd = (c), .validate = RVS_VALIDATE, .flags = 0, .doit = rvs_doit, .dumpit = rvs_dumpit }
#define RVS_OP_GET_NODUMP(c) { .cmd = (c), .validate = RVS_VALIDATE, .flags = 0, .doit = rvs_doit }

static const struct genl_small_ops rvs_dp_ops[] = {
	RVS_OP_ADMIN(OVS_DP_CMD_NEW),
	RVS_OP_ADMIN(OVS_DP_CMD_DEL),
	RVS_OP_GET(OVS_DP_CMD_GET),
	RVS_OP_ADMIN(OVS_DP_CMD_SET),
};

static const struct genl_small_ops rvs_vport_ops[] = {
	RVS_OP_ADMIN(OVS_VPORT_CMD_NEW),
	RVS_OP_ADMIN(OVS_VPORT_CMD_DEL),
	RVS_OP_GET(OVS_VPORT_CMD_GET),
	RVS_OP_ADMIN(OVS_VPORT_CMD_SET),
};

static const struct genl_small_ops rvs_flow_ops[] = {
	RVS_OP_ADMIN(OVS_FLOW_CMD_NEW),
	RVS_OP_ADMIN(OVS_FLOW_CMD_DEL),
	RVS_OP_GET(OVS_FLOW_CMD_GET),
	RVS_OP_ADMIN(OVS_FLOW_CMD_SET),
};

static const struct genl_small_ops rvs_packet_ops[] = {
	RVS_OP_ADMIN(OVS_PACKET_CMD_EXECUTE),
};

static const struct genl_small_ops rvs_meter_ops[] = {
	RVS_OP_GET_NODUMP(OVS_METER_CMD_FEATURES),
	RVS_OP_ADMIN(OVS_METER_CMD_SET),
	RVS_OP_ADMIN(OVS_METER_CMD_DEL),
	RVS_OP_GET_NODUMP(OVS_METER_CMD_GET),
};

/* rvs's own family (brcompat.rs), registered only with brcompat=1. */
static const struct genl_small_ops rvs_brc_ops[] = {
	RVS_OP_ADMIN(RVS_BRC_CMD_REGISTER),
	RVS_OP_ADMIN(RVS_BRC_CMD_REPLY),
};

static const struct genl_multicast_group rvs_dp_mcgrp = { .name = OVS_DATAPATH_MCGROUP };
static const struct genl_multicast_group rvs_vport_mcgrp = { .name = OVS_VPORT_MCGROUP };
static const struct genl_multicast_group rvs_flow_mcgrp = { .name = OVS_FLOW_MCGROUP };
static const struct genl_multicast_group rvs_meter_mcgrp = { .name = OVS_METER_MCGROUP };

static struct genl_family rvs_families[RVS_FAM_ALL] = {
	[RVS_FAM_DP] = {
		.hdrsize = sizeof(struct ovs_header),
		.name = OVS_DATAPATH_FAMILY,
		.version = OVS_DATAPATH_VERSION,
		.netnsok = true,
		.parallel_ops = true,
		.small_ops = rvs_dp_ops,
		.n_small_ops = ARRAY_SIZE(rvs_dp_ops),
		.resv_start_op = OVS_DP_CMD_SET + 1,
		.mcgrps = &rvs_dp_mcgrp,
		.n_mcgrps = 1,
		.module = THIS_MODULE,
	},
	[RVS_FAM_VPORT] = {
		.hdrsize = sizeof(struct ovs_header),
		.name = OVS_VPORT_FAMILY,
		.version = OVS_VPORT_VERSION,
		.netnsok = true,
		.parallel_ops = true,
		.small_ops = rvs_vport_ops,
		.n_small_ops = ARRAY_SIZE(rvs_vport_ops),
		.resv_start_op = OVS_VPORT_CMD_SET + 1,
		.mcgrps = &rvs_vport_mcgrp,
		.n_mcgrps = 1,
		.module = THIS_MODULE,
	},
	[RVS_FAM_FLOW] = {
		.hdrsize = sizeof(struct ovs_header),
		.name = OVS_FLOW_FAMILY,
		.version = OVS_FLOW_VERSION,
		.netnsok = true,
		.parallel_ops = true,
		.small_ops = rvs_flow_ops,
		.n_small_ops = ARRAY_SIZE(rvs_flow_ops),
		.resv_start_op = OVS_FLOW_CMD_SET + 1,
		.mcgrps = &rvs_flow_mcgrp,
		.n_mcgrps = 1,
		.module = THIS_MODULE,
	},
	[RVS_FAM_PACKET] = {
		.hdrsize = sizeof(struct ovs_header),
		.name = OVS_PACKET_FAMILY,
		.version = OVS_PACKET_VERSION,
		.netnsok = true,
		.parallel_ops = true,
		.small_ops = rvs_packet_ops,
		.n_small_ops = ARRAY_SIZE(rvs_packet_ops),
		.resv_start_op = OVS_PACKET_CMD_EXECUTE + 1,
		.module = THIS_MODULE,
	},
	[RVS_FAM_METER] = {
		.hdrsize = sizeof(struct ovs_header),
		.name = OVS_METER_FAMILY,
		.version = OVS_METER_VERSION,
		.netnsok = true,
		.parallel_ops = true,
		.small_ops = rvs_meter_ops,
		.n_small_ops = ARRAY_SIZE(rvs_meter_ops),
		.resv_start_op = OVS_METER_CMD_GET + 1,
		.mcgrps = &rvs_meter_mcgrp,
		.n_mcgrps = 1,
		.module = THIS_MODULE,
	},
	[RVS_FAM_BRC] = {
		.hdrsize = sizeof(struct ovs_header),
		.name = RVS_BRC_FAMILY,
		.version = 1,
		.netnsok = true,
		.parallel_ops = true,
		.small_ops = rvs_brc_ops,
		.n_small_ops = ARRAY_SIZE(rvs_brc_ops),
		.resv_start_op = RVS_BRC_CMD_REPLY + 1,
		.module = THIS_MODULE,
	},
};

static int rvs_registered;

int rvs_genl_register(const char **failed)
{
	int i, err;

	for (i = 0; i < RVS_FAM_N; i++) {
		err = genl_register_family(&rvs_families[i]);
		if (err) {
			*failed = rvs_families[i].name;
			while (--i >= 0)
				genl_unregister_family(&rvs_families[i]);
			return err;
		}
	}
	rvs_registered = 1;
	return 0;
}

void rvs_genl_unregister(void)
{
	int i;

	if (!rvs_registered)
		return;
	for (i = RVS_FAM_N - 1; i >= 0; i--)
		genl_unregister_family(&rvs_families[i]);
	rvs_registered = 0;
}

static bool rvs_brc_family_registered;

int rvs_genl_register_brc(void)
{
	int err = genl_register_family(&rvs_families[RVS_FAM_BRC]);

	rvs_brc_family_registered = !err;
	return err;
}

void rvs_genl_unregister_brc(void)
{
	if (rvs_brc_family_registered)
		genl_unregister_family(&rvs_families[RVS_FAM_BRC]);
	rvs_brc_family_registered = false;
}

const void *rvs_info_payload(const struct genl_info *info, size_t *len)
{
	*len = nlmsg_len(info->nlhdr) - GENL_HDRLEN;
	return (const u8 *)nlmsg_data(info->nlhdr) + GENL_HDRLEN;
}

u32 rvs_info_portid(const struct genl_info *info)
{
	return info->snd_portid;
}

u32 rvs_info_seq(const struct genl_info *info)
{
	return info->snd_seq;
}

u16 rvs_info_nlflags(const struct genl_info *info)
{
	return info->nlhdr->nlmsg_flags;
}

struct net *rvs_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

void rvs_info_set_err(struct genl_info *info, const char *msg, size_t len)
{
	NL_SET_ERR_MSG_FMT(info->extack, "%.*s", (int)len, msg);
}

const void *rvs_cb_payload(const struct netlink_callback *cb, size_t *len)
{
	int l = nlmsg_len(cb->nlh) - GENL_HDRLEN;

	*len = l > 0 ? l : 0;
	return (const u8 *)nlmsg_data(cb->nlh) + GENL_HDRLEN;
}

long *rvs_cb_args(struct netlink_callback *cb)
{
	return cb->args;
}

u32 rvs_cb_portid(const struct netlink_callback *cb)
{
	return NETLINK_CB(cb->skb).portid;
}

u32 rvs_cb_seq(const struct netlink_callback *cb)
{
	return cb->nlh->nlmsg_seq;
}

struct net *rvs_cb_net(const struct netlink_callback *cb)
{
	return sock_net(cb->skb->sk);
}

struct sk_buff *rvs_genlmsg_new(size_t payload, bool atomic)
{
	return genlmsg_new(payload, atomic ? GFP_ATOMIC : GFP_KERNEL);
}

void *rvs_genlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, int fam, int flags, u8 cmd)
{
	if (fam < 0 || fam >= RVS_FAM_ALL)
		return NULL;
	return genlmsg_put(skb, portid, seq, &rvs_families[fam], flags, cmd);
}

void rvs_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void rvs_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int rvs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void rvs_genl_notify(int fam, struct sk_buff *skb, struct genl_info *info)
{
	genl_notify(&rvs_families[fam], skb, info, 0, GFP_KERNEL);
}

int rvs_genlmsg_unicast(struct net *net, struct sk_buff *skb, u32 portid)
{
	return genlmsg_unicast(net, skb, portid);
}

int rvs_genl_multicast(int fam, struct net *net, struct sk_buff *skb)
{
	return genlmsg_multicast_netns(&rvs_families[fam], net, skb, 0, 0, GFP_KERNEL);
}

bool rvs_genl_must_notify(int fam, struct genl_info *info)
{
	return (info->nlhdr->nlmsg_flags & NLM_F_ECHO) ||
	       genl_has_listeners(&rvs_families[fam], genl_info_net(info), 0);
}

u8 *rvs_skb_tail(struct sk_buff *skb, size_t *room)
{
	*room = skb_tailroom(skb);
	return skb_tail_pointer(skb);
}

void rvs_skb_put(struct sk_buff *skb, size_t len)
{
	skb_put(skb, len);
}
