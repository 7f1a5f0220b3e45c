// SPDX-License-Identifier: GPL-2.0
/* rvs C glue, miscellaneous helpers: see rvs_glue.h. */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "rvs_glue.h"

/* Implemented in Rust. */
void rvs_rust_work(void);
void rvs_rust_rebalance(void);

const char *rvs_glue_kernel_release(void)
{
	return init_utsname()->release;
}

void rvs_glue_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rvs_glue_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

/* The writer lock of every rvs datapath (upstream ovs_mutex). Taken before rtnl_lock when both are needed. */
static DEFINE_MUTEX(rvs_ovs_mutex);

void rvs_ovs_lock(void)
{
	mutex_lock(&rvs_ovs_mutex);
}

void rvs_ovs_unlock(void)
{
	mutex_unlock(&rvs_ovs_mutex);
}

void rvs_rtnl_lock(void)
{
	rtnl_lock();
}

void rvs_rtnl_unlock(void)
{
	rtnl_unlock();
}

void *rvs_kvzalloc(size_t size)
{
	return kvzalloc(size, GFP_KERNEL);
}

void rvs_kvfree(void *p)
{
	kvfree(p);
}

/* A byte array freed after an RCU grace period (flow actions, upcall PID arrays). */
struct rvs_blob {
	struct rcu_head rcu;
	u8 data[];
};

void *rvs_blob_alloc(size_t len, bool atomic)
{
	struct rvs_blob *b = kmalloc(struct_size(b, data, len), atomic ? GFP_ATOMIC : GFP_KERNEL);

	return b ? b->data : NULL;
}

void rvs_blob_free(void *data)
{
	if (data)
		kfree(container_of(data, struct rvs_blob, data));
}

void rvs_blob_free_rcu(void *data)
{
	struct rvs_blob *b;

	if (!data)
		return;
	b = container_of(data, struct rvs_blob, data);
	kfree_rcu(b, rcu);
}

unsigned int rvs_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

unsigned int rvs_smp_processor_id(void)
{
	return smp_processor_id();
}

void rvs_local_bh_disable(void)
{
	local_bh_disable();
}

void rvs_local_bh_enable(void)
{
	local_bh_enable();
}

unsigned long rvs_jiffies(void)
{
	return jiffies;
}

/* Upstream ovs_flow_used_time: a jiffies stamp as milliseconds of the monotonic clock. */
u64 rvs_used_time_ms(unsigned long then)
{
	struct timespec64 ts;
	u64 idle_ms = jiffies_to_msecs(jiffies - then);

	ktime_get_ts64(&ts);
	return (u64)ts.tv_sec * MSEC_PER_SEC + ts.tv_nsec / NSEC_PER_MSEC - idle_ms;
}

/* Milliseconds of the monotonic clock (meters; upstream ovs_meter_execute's time base). */
u64 rvs_now_ms(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

bool rvs_capable_net_admin(struct net *net)
{
	return ns_capable(net->user_ns, CAP_NET_ADMIN);
}

static void rvs_work_fn(struct work_struct *work)
{
	rvs_rust_work();
}

static DECLARE_WORK(rvs_work, rvs_work_fn);

void rvs_schedule_work(void)
{
	schedule_work(&rvs_work);
}

void rvs_cancel_work(void)
{
	cancel_work_sync(&rvs_work);
}

/* Mask list rebalancing, every 4 s as upstream (DP_MASKS_REBALANCE_INTERVAL): the most used masks move first. */
#define RVS_REBALANCE_MS 4000

static void rvs_rebalance_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(rvs_rebalance_work, rvs_rebalance_fn);

static void rvs_rebalance_fn(struct work_struct *work)
{
	rvs_rust_rebalance();
	schedule_delayed_work(&rvs_rebalance_work, msecs_to_jiffies(RVS_REBALANCE_MS));
}

void rvs_rebalance_start(void)
{
	schedule_delayed_work(&rvs_rebalance_work, msecs_to_jiffies(RVS_REBALANCE_MS));
}

void rvs_rebalance_stop(void)
{
	cancel_delayed_work_sync(&rvs_rebalance_work);
}
