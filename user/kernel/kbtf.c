// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/btf.h>
#include "kbtf.h"

struct kbtf {
	struct btf *btf;
};

struct kbtf *kbtf__open(void)
{
	struct kbtf *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->btf = btf__load_vmlinux_btf();
	if (!k->btf) {
		free(k);
		return NULL; /* errno set by libbpf */
	}
	return k;
}

int kbtf__tp_nargs(const struct kbtf *k, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	if (snprintf(name, sizeof(name), "btf_trace_%s", tp) >= (int)sizeof(name))
		return -ENOENT;
	id = btf__find_by_name_kind(k->btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOENT;
	/* typedef -> pointer -> function prototype (void *ctx, the arguments...) */
	t = btf__type_by_id(k->btf, btf__resolve_type(k->btf, id));
	if (!t || !btf_is_ptr(t))
		return -ENOENT;
	t = btf__type_by_id(k->btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -ENOENT;
	return btf_vlen(t) - 1;
}

int kbtf__has_struct(const struct kbtf *k, const char *name)
{
	return btf__find_by_name_kind(k->btf, name, BTF_KIND_STRUCT) >= 0;
}

void kbtf__close(struct kbtf *k)
{
	if (!k)
		return;
	btf__free(k->btf);
	free(k);
}
