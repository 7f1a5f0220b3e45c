// SPDX-License-Identifier: GPL-2.0
/*
 * rvs C glue, brctl compatibility (see brcompat.rs for the design): the `brcompat` module option, the bridge ioctl
 * hook (brioctl_set) and the SIOCDEVPRIVATE / ndo_add_slave / ndo_del_slave handlers of rvs internal devices. They
 * only copy arguments from and results to user space and check capabilities; each request goes to Rust
 * (rvs_rust_brc_call), which relays it to rvs-vswitchd. The pending-request slots (a completion each, matched to
 * the daemon's reply by sequence number) live here because completions and spinlocks are C macros.
 */
#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/compat.h>
#include <linux/if_bridge.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sockios.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "rvs_glue.h"

static bool brcompat;
module_param(brcompat, bool, 0444);
MODULE_PARM_DESC(brcompat, "brctl compatibility: relay bridge ioctls to rvs-vswitchd (default off)");

/* Implemented in Rust: relays one request; returns >= 0 (a count or 0) or -errno. */
int rvs_rust_brc_call(struct net *net, u32 op, const char *name, u32 ifindex, u64 value, u32 offset, u32 max,
		      u8 *out, size_t cap, size_t *len, unsigned int timeout_ms);

/* Changes made from the ioctl hook (no lock but br_ioctl_mutex held) wait for the daemon to reconcile (the first
 * bridge also creates the datapath); reads, and requests made under rtnl (SIOCDEVPRIVATE, ndo_add_slave/del_slave),
 * which must not wait for reconciliation since it needs rtnl, get a short wait. */
#define RVS_BRC_WAIT_MS 15000
#define RVS_BRC_RTNL_WAIT_MS 3000
#define RVS_BRC_MAX 1024 /* bridges and ports per list, as bridge-utils' MAX_BRIDGES/MAX_PORTS */

static bool rvs_brc_hooked;

bool rvs_brc_enabled(void)
{
	return brcompat;
}

/* ---- pending requests ---- */

struct rvs_brc_slot {
	struct list_head node;
	u32 seq;
	bool done;
	struct completion completion;
	int err;
	u8 *buf;
	size_t cap, len;
};

static LIST_HEAD(rvs_brc_slots);
static DEFINE_SPINLOCK(rvs_brc_lock);
static u32 rvs_brc_next_seq;

struct rvs_brc_slot *rvs_brc_slot_new(u8 *buf, size_t cap)
{
	struct rvs_brc_slot *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	init_completion(&s->completion);
	s->buf = buf;
	s->cap = cap;
	spin_lock_bh(&rvs_brc_lock);
	s->seq = ++rvs_brc_next_seq;
	list_add_tail(&s->node, &rvs_brc_slots);
	spin_unlock_bh(&rvs_brc_lock);
	return s;
}

u32 rvs_brc_slot_seq(const struct rvs_brc_slot *s)
{
	return s->seq;
}

/* Waits for the reply (or the timeout, or a fatal signal), unlinks and frees the slot. Returns the daemon's result
 * (0 or -errno), -ETIMEDOUT or -EINTR; *len receives the reply data length. */
int rvs_brc_slot_wait(struct rvs_brc_slot *s, unsigned int timeout_ms, size_t *len)
{
	long left = wait_for_completion_killable_timeout(&s->completion, msecs_to_jiffies(timeout_ms));
	int err;

	spin_lock_bh(&rvs_brc_lock);
	list_del(&s->node);
	if (s->done) {
		err = s->err;
		*len = s->len;
	} else {
		err = left < 0 ? -EINTR : -ETIMEDOUT;
		*len = 0;
	}
	spin_unlock_bh(&rvs_brc_lock);
	kfree(s);
	return err;
}

/* Completes the slot of `seq` with the daemon's result; -ENOENT if none waits (late or bogus reply). */
int rvs_brc_slot_complete(u32 seq, int err, const u8 *data, size_t len)
{
	struct rvs_brc_slot *s;
	int r = -ENOENT;

	spin_lock_bh(&rvs_brc_lock);
	list_for_each_entry(s, &rvs_brc_slots, node) {
		if (s->seq != seq || s->done)
			continue;
		if (len > s->cap) {
			s->err = -EMSGSIZE;
			s->len = 0;
		} else {
			if (len)
				memcpy(s->buf, data, len);
			s->err = err;
			s->len = len;
		}
		s->done = true;
		complete(&s->completion);
		r = 0;
		break;
	}
	spin_unlock_bh(&rvs_brc_lock);
	return r;
}

/* ---- the fallback memo ----
 * bridge-utils retries a failed SIOCBRADDBR/DELBR with SIOCSIFBR and a failed SIOCBRADDIF/DELIF with
 * SIOCDEVPRIVATE. The retry must report the first call's error, not ask the daemon again (twice the wait) or
 * answer EOPNOTSUPP, so the last failure of each task is remembered for a second. */
static struct {
	pid_t pid;
	u32 op;
	u32 ifindex;
	char name[IFNAMSIZ];
	int err;
	unsigned long when;
} rvs_brc_memo;

static void rvs_brc_memo_set(u32 op, const char *name, u32 ifindex, int err)
{
	spin_lock_bh(&rvs_brc_lock);
	rvs_brc_memo.pid = err < 0 ? task_pid_nr(current) : 0;
	rvs_brc_memo.op = op;
	rvs_brc_memo.ifindex = ifindex;
	strscpy(rvs_brc_memo.name, name, IFNAMSIZ);
	rvs_brc_memo.err = err;
	rvs_brc_memo.when = jiffies;
	spin_unlock_bh(&rvs_brc_lock);
}

static int rvs_brc_memo_get(u32 op, const char *name, u32 ifindex)
{
	int err = 0;

	spin_lock_bh(&rvs_brc_lock);
	if (rvs_brc_memo.pid == task_pid_nr(current) && rvs_brc_memo.op == op && rvs_brc_memo.ifindex == ifindex &&
	    !strncmp(rvs_brc_memo.name, name, IFNAMSIZ) && time_before(jiffies, rvs_brc_memo.when + HZ)) {
		err = rvs_brc_memo.err;
		rvs_brc_memo.pid = 0;
	}
	spin_unlock_bh(&rvs_brc_lock);
	return err;
}

/* ---- requests ---- */

static int rvs_brc_simple(struct net *net, u32 op, const char *name, u32 ifindex, u64 value, unsigned int wait_ms)
{
	size_t len;
	int err;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	err = rvs_rust_brc_call(net, op, name, ifindex, value, 0, 0, NULL, 0, &len, wait_ms);
	return err < 0 ? err : 0;
}

/* A list request whose answer is `max` entries of `size` bytes copied to `to`; returns the entry count. With
 * `whole`, the whole zero-filled array is copied (BRCTL_GET_PORT_LIST). */
static int rvs_brc_list(struct net *net, u32 op, const char *name, u32 offset, u32 max, size_t size,
			void __user *to, bool whole, unsigned int wait_ms)
{
	size_t len = 0, cap;
	u8 *buf;
	int n;

	if (!max)
		return 0;
	cap = (size_t)max * size;
	buf = kvzalloc(cap, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = rvs_rust_brc_call(net, op, name, 0, 0, offset, max, buf, cap, &len, wait_ms);
	if (n >= 0 && copy_to_user(to, buf, whole ? cap : len))
		n = -EFAULT;
	kvfree(buf);
	return n;
}

/* SIOCGIFBR / SIOCSIFBR (bridge-utils' "old" interface: list the bridges, add/delete one). */
static int rvs_brc_deviceless(struct net *net, void __user *uarg)
{
	unsigned long args[3];
	char name[IFNAMSIZ];
	u32 op;
	int err;

	if (in_compat_syscall())
		return -EOPNOTSUPP;
	if (copy_from_user(args, uarg, sizeof(args)))
		return -EFAULT;
	switch (args[0]) {
	case BRCTL_GET_VERSION:
		return BRCTL_VERSION;
	case BRCTL_GET_BRIDGES:
		return rvs_brc_list(net, RVS_BRC_OP_GET_BRIDGES, "", 0, min_t(unsigned long, args[2], RVS_BRC_MAX),
				    sizeof(int), (void __user *)args[1], false, RVS_BRC_RTNL_WAIT_MS);
	case BRCTL_ADD_BRIDGE:
	case BRCTL_DEL_BRIDGE:
		if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
			return -EPERM;
		if (strncpy_from_user(name, (const char __user *)args[1], IFNAMSIZ) < 0)
			return -EFAULT;
		name[IFNAMSIZ - 1] = 0;
		op = args[0] == BRCTL_ADD_BRIDGE ? RVS_BRC_OP_ADDBR : RVS_BRC_OP_DELBR;
		err = rvs_brc_memo_get(op, name, 0);
		if (err)
			return err;
		return rvs_brc_simple(net, op, name, 0, 0, RVS_BRC_WAIT_MS);
	}
	return -EOPNOTSUPP;
}

/* The brioctl_set hook: called with br_ioctl_mutex held (one request at a time), rtnl not held. */
static int rvs_brc_ioctl(struct net *net, unsigned int cmd, void __user *uarg)
{
	char name[IFNAMSIZ];
	struct ifreq ifr;
	u32 op;
	int err;

	switch (cmd) {
	case SIOCGIFBR:
	case SIOCSIFBR:
		return rvs_brc_deviceless(net, uarg);
	case SIOCBRADDBR:
	case SIOCBRDELBR:
		if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
			return -EPERM;
		if (copy_from_user(name, uarg, IFNAMSIZ))
			return -EFAULT;
		name[IFNAMSIZ - 1] = 0;
		op = cmd == SIOCBRADDBR ? RVS_BRC_OP_ADDBR : RVS_BRC_OP_DELBR;
		err = rvs_brc_simple(net, op, name, 0, 0, RVS_BRC_WAIT_MS);
		rvs_brc_memo_set(op, name, 0, err);
		return err;
	case SIOCBRADDIF:
	case SIOCBRDELIF:
		if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
			return -EPERM;
		if (get_user_ifreq(&ifr, NULL, uarg))
			return -EFAULT;
		ifr.ifr_name[IFNAMSIZ - 1] = 0;
		op = cmd == SIOCBRADDIF ? RVS_BRC_OP_ADDIF : RVS_BRC_OP_DELIF;
		if (ifr.ifr_ifindex <= 0)
			return -EINVAL;
		err = rvs_brc_simple(net, op, ifr.ifr_name, ifr.ifr_ifindex, 0, RVS_BRC_WAIT_MS);
		rvs_brc_memo_set(op, ifr.ifr_name, ifr.ifr_ifindex, err);
		return err;
	}
	return -EOPNOTSUPP;
}

/* ndo_siocdevprivate of rvs internal devices (rtnl held): bridge-utils' per-bridge requests. */
int rvs_brc_siocdevprivate(struct net_device *dev, struct ifreq *ifr, void __user *data, int cmd)
{
	struct net *net = dev_net(dev);
	unsigned long args[4];
	int err;

	if (!brcompat || cmd != SIOCDEVPRIVATE || in_compat_syscall())
		return -EOPNOTSUPP;
	if (copy_from_user(args, data, sizeof(args)))
		return -EFAULT;
	switch (args[0]) {
	case BRCTL_ADD_IF:
	case BRCTL_DEL_IF: {
		u32 op = args[0] == BRCTL_ADD_IF ? RVS_BRC_OP_ADDIF : RVS_BRC_OP_DELIF;

		if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
			return -EPERM;
		/* Only the retry of a failed SIOCBRADDIF/DELIF comes here: report its error. Adding a port needs rtnl,
		 * which this path holds, so it is not relayed. */
		err = rvs_brc_memo_get(op, dev->name, args[1]);
		return err ? err : -EOPNOTSUPP;
	}
	case BRCTL_GET_BRIDGE_INFO: {
		struct __bridge_info b;
		size_t len = 0;

		memset(&b, 0, sizeof(b));
		err = rvs_rust_brc_call(net, RVS_BRC_OP_GET_BRIDGE_INFO, dev->name, 0, 0, 0, 0, (u8 *)&b, sizeof(b),
					&len, RVS_BRC_RTNL_WAIT_MS);
		if (err < 0)
			return err;
		if (len != sizeof(b))
			return -EIO;
		return copy_to_user((void __user *)args[1], &b, sizeof(b)) ? -EFAULT : 0;
	}
	case BRCTL_GET_PORT_INFO: {
		struct __port_info pi;
		size_t len = 0;

		if (args[2] > U16_MAX)
			return -EINVAL;
		memset(&pi, 0, sizeof(pi));
		err = rvs_rust_brc_call(net, RVS_BRC_OP_GET_PORT_INFO, dev->name, 0, 0, args[2], 0, (u8 *)&pi,
					sizeof(pi), &len, RVS_BRC_RTNL_WAIT_MS);
		if (err < 0)
			return err;
		if (len != sizeof(pi))
			return -EIO;
		return copy_to_user((void __user *)args[1], &pi, sizeof(pi)) ? -EFAULT : 0;
	}
	case BRCTL_GET_PORT_LIST: {
		unsigned long num = args[2];

		if (num == 0)
			num = 256;
		num = min_t(unsigned long, num, RVS_BRC_MAX);
		err = rvs_brc_list(net, RVS_BRC_OP_GET_PORT_LIST, dev->name, 0, num, sizeof(int),
				   (void __user *)args[1], true, RVS_BRC_RTNL_WAIT_MS);
		return err < 0 ? err : 0;
	}
	case BRCTL_GET_FDB_ENTRIES:
		if (args[3] > U32_MAX)
			return -EINVAL;
		return rvs_brc_list(net, RVS_BRC_OP_GET_FDB, dev->name, args[3], min_t(unsigned long, args[2], 2048),
				    sizeof(struct __fdb_entry), (void __user *)args[1], false, RVS_BRC_RTNL_WAIT_MS);
	case BRCTL_SET_AGEING_TIME:
		return rvs_brc_simple(net, RVS_BRC_OP_SET_AGEING, dev->name, 0, args[1], RVS_BRC_RTNL_WAIT_MS);
	case BRCTL_SET_BRIDGE_STP_STATE:
		return rvs_brc_simple(net, RVS_BRC_OP_SET_STP, dev->name, 0, args[1], RVS_BRC_RTNL_WAIT_MS);
	}
	return -EOPNOTSUPP;
}

/* ndo_add_slave / ndo_del_slave of rvs internal devices (`ip link set DEV master BR` / `nomaster`; rtnl held). */
int rvs_brc_add_slave(struct net_device *dev, struct net_device *slave, struct netlink_ext_ack *extack)
{
	if (!brcompat)
		return -EOPNOTSUPP;
	return rvs_brc_simple(dev_net(dev), RVS_BRC_OP_ADD_SLAVE, dev->name, slave->ifindex, 0, RVS_BRC_RTNL_WAIT_MS);
}

int rvs_brc_del_slave(struct net_device *dev, struct net_device *slave)
{
	if (!brcompat)
		return -EOPNOTSUPP;
	return rvs_brc_simple(dev_net(dev), RVS_BRC_OP_DEL_SLAVE, dev->name, slave->ifindex, 0, RVS_BRC_RTNL_WAIT_MS);
}

/* ---- hook ownership ----
 * The bridge module sets the hook unconditionally at load and clears it at unload; there is no way to read it.
 * Whether the bridge module is loaded is told by one of its GPL exports: symbol_get takes a reference to its owner
 * (released at once), so the answer cannot race with the module going away during the check. */
static bool rvs_bridge_module_loaded(void)
{
	void *p = __symbol_get("br_fdb_find_port");

	if (!p)
		return false;
	__symbol_put("br_fdb_find_port");
	return true;
}

int rvs_brc_register(void)
{
	if (!brcompat)
		return 0;
	if (rvs_bridge_module_loaded()) {
		pr_err("rvs: brcompat=1 refused: the bridge module is loaded and owns the bridge ioctls (rmmod bridge first)\n");
		return -EBUSY;
	}
	brioctl_set(rvs_brc_ioctl);
	rvs_brc_hooked = true;
	pr_info("rvs: brctl compatibility enabled (bridge ioctls are relayed to rvs-vswitchd)\n");
	return 0;
}

void rvs_brc_unregister(void)
{
	if (!rvs_brc_hooked)
		return;
	/* A bridge module loaded after rvs replaced the hook with its own: leave it. Otherwise clear ours;
	 * brioctl_set waits (br_ioctl_mutex) for a request in the hook to finish. */
	if (rvs_bridge_module_loaded())
		pr_info("rvs: the bridge module took over the bridge ioctls; leaving its hook in place\n");
	else
		brioctl_set(NULL);
	rvs_brc_hooked = false;
}
