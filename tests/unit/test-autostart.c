/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the dependency graph of lib/autostart.c: cycle detection
 * and waves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "autostart.h"

/* edges: "a:b" = a depends on b */
static void build(struct vs_as_graph *g, const char *const *nodes, const char *const *edges)
{
	for (; *nodes; nodes++)
		vs_as_graph_add(g, *nodes);
	for (; *edges; edges++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", *edges);
		char *colon = strchr(buf, ':');
		*colon = 0;
		vs_as_graph_edge(g, vs_as_graph_add(g, buf), vs_as_graph_add(g, colon + 1));
	}
}

static int wave(struct vs_as_graph *g, int *w, const char *name)
{
	long i = vs_as_graph_find(g, name);
	assert_true(i >= 0);
	return w[i];
}

static void waves_start_and_stop(void **state)
{
	(void)state;
	struct vs_as_graph g = { 0 };
	build(&g, (const char *const[]){ "a", "b", "c", "d", NULL }, (const char *const[]){ "a:b", "d:a", NULL });
	int w[4], n;
	vs_err err = { 0 };
	assert_int_equal(vs_as_graph_check(&g, &err), 0);
	assert_int_equal(vs_as_graph_waves(&g, false, w, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(wave(&g, w, "b"), 1);
	assert_int_equal(wave(&g, w, "c"), 1);
	assert_int_equal(wave(&g, w, "a"), 2);
	assert_int_equal(wave(&g, w, "d"), 3);
	assert_int_equal(vs_as_graph_waves(&g, true, w, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(wave(&g, w, "d"), 1);
	assert_int_equal(wave(&g, w, "c"), 1);
	assert_int_equal(wave(&g, w, "a"), 2);
	assert_int_equal(wave(&g, w, "b"), 3);
	vs_as_graph_free(&g);
}

static void diamond(void **state)
{
	(void)state;
	struct vs_as_graph g = { 0 };
	/* top needs l and r, both need base; a duplicate edge is ignored */
	build(&g, (const char *const[]){ "top", NULL },
	      (const char *const[]){ "top:l", "top:r", "l:base", "r:base", "l:base", NULL });
	assert_int_equal(g.nodes[vs_as_graph_find(&g, "l")].n_deps, 1);
	int w[4], n;
	vs_err err = { 0 };
	assert_int_equal(vs_as_graph_waves(&g, false, w, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(wave(&g, w, "base"), 1);
	assert_int_equal(wave(&g, w, "l"), 2);
	assert_int_equal(wave(&g, w, "r"), 2);
	assert_int_equal(wave(&g, w, "top"), 3);
	vs_as_graph_free(&g);
}

static void cycles(void **state)
{
	(void)state;
	vs_err err = { 0 };
	struct vs_as_graph g = { 0 };
	build(&g, (const char *const[]){ "a", "b", NULL }, (const char *const[]){ "a:b", "b:a", NULL });
	assert_int_equal(vs_as_graph_check(&g, &err), -1);
	assert_int_equal(err.kind, VS_E_INVALID);
	assert_string_equal(err.msg, "dependency cycle: a -> b -> a");
	int w[8], n;
	assert_int_equal(vs_as_graph_waves(&g, false, w, &n, &err), -1);
	vs_as_graph_free(&g);

	/* a longer one behind an acyclic prefix */
	build(&g, (const char *const[]){ "x", NULL },
	      (const char *const[]){ "x:p", "p:q", "q:r", "r:p", NULL });
	assert_int_equal(vs_as_graph_check(&g, &err), -1);
	assert_string_equal(err.msg, "dependency cycle: p -> q -> r -> p");
	vs_as_graph_free(&g);

	/* a guest depending on itself */
	build(&g, (const char *const[]){ "s", NULL }, (const char *const[]){ "s:s", NULL });
	assert_int_equal(vs_as_graph_check(&g, &err), -1);
	assert_string_equal(err.msg, "dependency cycle: s -> s");
	vs_as_graph_free(&g);

	/* empty */
	assert_int_equal(vs_as_graph_check(&g, &err), 0);
	assert_int_equal(vs_as_graph_waves(&g, false, w, &n, &err), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(waves_start_and_stop),
		cmocka_unit_test(diamond),
		cmocka_unit_test(cycles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
