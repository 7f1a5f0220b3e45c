// SPDX-License-Identifier: GPL-2.0
/* rvs C glue: see rvs_glue.h. */
#include <linux/rcupdate.h>
#include <linux/utsname.h>

#include "rvs_glue.h"

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
