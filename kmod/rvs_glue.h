/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rvs C glue: thin wrappers for kernel inline functions and macros that the Rust side of rvs.ko cannot call
 * directly. Every function here is declared in kmod/glue.rs; keep the two in step. No logic lives here.
 */
#ifndef RVS_GLUE_H
#define RVS_GLUE_H

const char *rvs_glue_kernel_release(void);
void rvs_glue_rcu_read_lock(void);
void rvs_glue_rcu_read_unlock(void);

#endif /* RVS_GLUE_H */
