/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Autostart in dependency order (see autostart.h and vserver-autostart(8)).
 *
 * util-vserver's start-vservers wrote a Makefile (one target per guest,
 * edges from apps/init/depends) and ran `make -k -jN`.  This is the same
 * model without make: a guest is launched once everything it waits for
 * has succeeded (start: its dependencies; stop: the selected guests that
 * depend on it), at most `jobs` at once, each vs_start / vs_stop in a
 * forked child so that they run in parallel; a failure skips what waits
 * for it (make -k).  Everything is checked before the first launch. */
#include "autostart.h"
#include "config.h"
#include "start.h"
#include "state.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- graph ------------------------------------------------------------------ */

long vs_as_graph_find(const struct vs_as_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->nodes[i].name, name))
			return (long)i;
	return -1;
}

size_t vs_as_graph_add(struct vs_as_graph *g, const char *name)
{
	long k = vs_as_graph_find(g, name);
	if (k >= 0)
		return (size_t)k;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->nodes = realloc(g->nodes, g->cap * sizeof *g->nodes);
		if (!g->nodes)
			abort();
	}
	g->nodes[g->n] = (struct vs_as_node){ .name = vs_strdup(name) };
	return g->n++;
}

void vs_as_graph_edge(struct vs_as_graph *g, size_t node, size_t dep)
{
	struct vs_as_node *n = &g->nodes[node];
	for (size_t i = 0; i < n->n_deps; i++)
		if (n->deps[i] == dep)
			return;
	if (n->n_deps == n->cap_deps) {
		n->cap_deps = n->cap_deps ? n->cap_deps * 2 : 4;
		n->deps = realloc(n->deps, n->cap_deps * sizeof *n->deps);
		if (!n->deps)
			abort();
	}
	n->deps[n->n_deps++] = dep;
}

void vs_as_graph_free(struct vs_as_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->nodes[i].name);
		free(g->nodes[i].deps);
	}
	free(g->nodes);
	*g = (struct vs_as_graph){ 0 };
}

enum { WHITE, GREY, BLACK };

/* Depth-first search; on a back edge, the cycle is path[from..] + the
 * node closing it. */
static int dfs(const struct vs_as_graph *g, size_t v, int *color, size_t *path, size_t depth, vs_err *err)
{
	color[v] = GREY;
	path[depth] = v;
	const struct vs_as_node *n = &g->nodes[v];
	for (size_t i = 0; i < n->n_deps; i++) {
		size_t w = n->deps[i];
		if (color[w] == GREY) {
			size_t from = 0;
			while (path[from] != w)
				from++;
			size_t len = 64;
			for (size_t k = from; k <= depth; k++)
				len += strlen(g->nodes[path[k]].name) + 4;
			len += strlen(g->nodes[w].name);
			_cleanup_free_ char *msg = vs_xmalloc0(len);
			for (size_t k = from; k <= depth; k++) {
				strcat(msg, g->nodes[path[k]].name);
				strcat(msg, " -> ");
			}
			strcat(msg, g->nodes[w].name);
			return vs_fail(err, VS_E_INVALID, 0, "dependency cycle: %s", msg);
		}
		if (color[w] == WHITE && dfs(g, w, color, path, depth + 1, err) < 0)
			return -1;
	}
	color[v] = BLACK;
	return 0;
}

int vs_as_graph_check(const struct vs_as_graph *g, vs_err *err)
{
	if (!g->n)
		return 0;
	_cleanup_free_ int *color = vs_xmalloc0(g->n * sizeof *color);
	_cleanup_free_ size_t *path = vs_xmalloc0(g->n * sizeof *path);
	for (size_t v = 0; v < g->n; v++)
		if (color[v] == WHITE && dfs(g, v, color, path, 0, err) < 0)
			return -1;
	return 0;
}

/* wave of v (memoized): 1 + max over what v waits for */
static int wave_of(const struct vs_as_graph *g, bool reverse, size_t v, int *wave)
{
	if (wave[v])
		return wave[v];
	int w = 1;
	if (!reverse) {
		const struct vs_as_node *n = &g->nodes[v];
		for (size_t i = 0; i < n->n_deps; i++) {
			int d = wave_of(g, reverse, n->deps[i], wave) + 1;
			if (d > w)
				w = d;
		}
	} else {
		for (size_t u = 0; u < g->n; u++)
			for (size_t i = 0; i < g->nodes[u].n_deps; i++)
				if (g->nodes[u].deps[i] == v) {
					int d = wave_of(g, reverse, u, wave) + 1;
					if (d > w)
						w = d;
				}
	}
	wave[v] = w;
	return w;
}

int vs_as_graph_waves(const struct vs_as_graph *g, bool reverse, int *wave, int *nwaves, vs_err *err)
{
	if (vs_as_graph_check(g, err) < 0)
		return -1;
	*nwaves = 0;
	for (size_t v = 0; v < g->n; v++)
		wave[v] = 0;
	for (size_t v = 0; v < g->n; v++) {
		int w = wave_of(g, reverse, v, wave);
		if (w > *nwaves)
			*nwaves = w;
	}
	return 0;
}

/* ---- selection -------------------------------------------------------------- */

struct guest {
	char *name;
	bool loaded;
	char *mark;
	vs_strv depends;
	bool disabled;
};

static void guests_free(struct guest *gs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(gs[i].name);
		free(gs[i].mark);
		vs_strv_free(&gs[i].depends);
	}
	free(gs);
}

static long guest_find(const struct guest *gs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(gs[i].name, name))
			return (long)i;
	return -1;
}

/* Reads mark, depends and disabled of every configured guest.  A guest
 * whose configuration cannot be read at all is kept (it fails when it is
 * started) but has no dependencies. */
static struct guest *guests_load(const struct vs_settings *s, const vs_strv *names, const vs_report *rep)
{
	struct guest *gs = vs_xmalloc0((names->n + 1) * sizeof *gs);
	for (size_t i = 0; i < names->n; i++) {
		struct guest *g = &gs[i];
		g->name = vs_strdup(names->v[i]);
		struct vs_config c;
		struct vs_diags d = { 0 };
		vs_err e = { 0 };
		if (vs_config_load(s, g->name, &c, &d, &e) < 0) {
			vs_say(rep, "warning: %s: %s", g->name, e.msg);
			vs_diags_free(&d);
			continue;
		}
		vs_diags_free(&d);
		g->loaded = true;
		g->mark = c.init.mark ? vs_strdup(c.init.mark) : NULL;
		for (size_t k = 0; k < c.init.depends.n; k++)
			vs_strv_push(&g->depends, c.init.depends.v[k]);
		g->disabled = c.disabled;
		vs_config_free(&c);
	}
	return gs;
}

/* ---- scheduler ---------------------------------------------------------------- */

enum { S_WAIT, S_RUN, S_OK, S_FAIL, S_SKIP, S_DISABLED };

struct job {
	pid_t pid;
	int fd;       /* read end: the child's error message */
	double t0;
};

struct run {
	const struct vs_settings *s;
	const struct vs_autostart_opts *o;
	const vs_report *rep;
	struct vs_as_graph *g;
	int *state;
	struct job *jobs;
	size_t *order; /* by wave, then name */
	int nrun, nfailed;
};

/* What node v waits for, into out (room for g->n): start: its
 * dependencies; stop: the nodes that depend on it. */
static size_t blockers(const struct run *R, size_t v, size_t *out)
{
	size_t n = 0;
	if (!R->o->stop) {
		for (size_t i = 0; i < R->g->nodes[v].n_deps; i++)
			out[n++] = R->g->nodes[v].deps[i];
	} else {
		for (size_t u = 0; u < R->g->n; u++)
			for (size_t i = 0; i < R->g->nodes[u].n_deps; i++)
				if (R->g->nodes[u].deps[i] == v)
					out[n++] = u;
	}
	return n;
}

static const char *why_not(int st)
{
	switch (st) {
	case S_FAIL:
		return "failed";
	case S_DISABLED:
		return "is disabled";
	default:
		return "was skipped";
	}
}

static void child(const struct run *R, const char *name, int fd)
{
	vs_err e = { 0 };
	bool already = false;
	int r;
	signal(SIGPIPE, SIG_DFL);
	if (R->o->stop) {
		r = vs_stop(R->s, name, R->o->stop_timeout, R->o->cgroot, NULL, &e);
	} else {
		struct vs_start_opts so = { .cgroot = R->o->cgroot };
		r = vs_start(R->s, name, &so, &already, NULL, &e);
	}
	if (r < 0) {
		const char *m = e.msg[0] ? e.msg : "unknown error";
		ssize_t w = write(fd, m, strlen(m));
		(void)w;
		_exit(1);
	}
	_exit(already ? 3 : 0);
}

/* Launch node v (state S_RUN), or complete it at once: a stop of a
 * guest that is not running, or a failure to fork. */
static void launch(struct run *R, size_t v)
{
	const char *name = R->g->nodes[v].name;
	if (R->o->stop) {
		struct vs_state st;
		vs_err e = { 0 };
		int r = vs_state_get(R->s, name, &st, NULL, &e);
		if (r == 0) {
			vs_say(R->rep, "%s: not running", name);
			R->state[v] = S_OK;
			return;
		}
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		vs_say(R->rep, "FAILED %s: pipe: %s", name, strerror(errno));
		R->state[v] = S_FAIL;
		R->nfailed++;
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		vs_say(R->rep, "FAILED %s: fork: %s", name, strerror(errno));
		close(p[0]);
		close(p[1]);
		R->state[v] = S_FAIL;
		R->nfailed++;
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child(R, name, p[1]);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	R->jobs[v] = (struct job){ .pid = pid, .fd = p[0], .t0 = vs_now() };
	R->state[v] = S_RUN;
	R->nrun++;
}

static void finish(struct run *R, size_t v, int status)
{
	const char *name = R->g->nodes[v].name;
	struct job *j = &R->jobs[v];
	char msg[2048];
	ssize_t n = read(j->fd, msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = 0;
	close(j->fd);
	j->fd = -1;
	R->nrun--;
	double dt = vs_now() - j->t0;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3)) {
		R->state[v] = S_OK;
		if (WEXITSTATUS(status) == 3)
			vs_say(R->rep, "%s: already running", name);
		else
			vs_say(R->rep, "%s %s (%.1f s)", R->o->stop ? "stopped" : "started", name, dt);
		return;
	}
	R->state[v] = S_FAIL;
	R->nfailed++;
	if (!msg[0]) {
		if (WIFSIGNALED(status))
			snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
		else
			snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
	}
	vs_say(R->rep, "FAILED %s: %s", name, msg);
}

/* Skip every waiting node whose blockers include a failed, skipped or
 * disabled node (in wave order, so that skips cascade in one pass). */
static bool propagate_skips(struct run *R, size_t *buf)
{
	bool any = false;
	for (size_t k = 0; k < R->g->n; k++) {
		size_t v = R->order[k];
		if (R->state[v] != S_WAIT)
			continue;
		size_t nb = blockers(R, v, buf);
		for (size_t i = 0; i < nb; i++) {
			int st = R->state[buf[i]];
			if (st == S_FAIL || st == S_SKIP || st == S_DISABLED) {
				vs_say(R->rep, "skipped %s: %s %s %s", R->g->nodes[v].name,
				       R->o->stop ? "dependent" : "dependency", R->g->nodes[buf[i]].name,
				       R->o->stop && st == S_FAIL ? "failed to stop" : why_not(st));
				R->state[v] = S_SKIP;
				R->nfailed++;
				any = true;
				break;
			}
		}
	}
	return any;
}

static void schedule(struct run *R)
{
	int maxjobs = R->o->jobs > 0 ? R->o->jobs : 4;
	_cleanup_free_ size_t *buf = vs_xmalloc0((R->g->n + 1) * sizeof *buf);
	for (;;) {
		bool progress = true;
		while (progress) {
			progress = propagate_skips(R, buf);
			for (size_t k = 0; k < R->g->n && R->nrun < maxjobs; k++) {
				size_t v = R->order[k];
				if (R->state[v] != S_WAIT)
					continue;
				size_t nb = blockers(R, v, buf);
				bool ready = true;
				for (size_t i = 0; i < nb; i++)
					if (R->state[buf[i]] != S_OK)
						ready = false;
				if (!ready)
					continue;
				launch(R, v);
				if (R->state[v] != S_RUN)
					progress = true; /* completed (or failed) at once */
			}
		}
		if (!R->nrun)
			break;
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: cannot happen while nrun > 0 */
		}
		for (size_t v = 0; v < R->g->n; v++)
			if (R->state[v] == S_RUN && R->jobs[v].pid == pid) {
				finish(R, v, status);
				break;
			}
	}
	for (size_t v = 0; v < R->g->n; v++)
		if (R->state[v] == S_WAIT || R->state[v] == S_RUN) {
			vs_say(R->rep, "FAILED %s: not run", R->g->nodes[v].name);
			R->nfailed++;
		}
}

static int cmp_order(const void *a, const void *b, void *ud)
{
	const int *wave = ud;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (wave[x] != wave[y])
		return wave[x] < wave[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

int vs_autostart(const struct vs_settings *s, const struct vs_autostart_opts *o, const vs_report *rep,
		 int *nfailed, vs_err *err)
{
	*nfailed = 0;
	const char *mark = o->mark ? o->mark : "default";
	_cleanup_strv_ vs_strv names = { 0 };
	if (vs_config_list_names(s, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < o->n_names; i++) {
		if (vs_name_check(o->names[i], err) < 0)
			return -1;
		if (!vs_strv_contains(&names, o->names[i]))
			return vs_fail(err, VS_E_NOGUEST, 0, "no guest '%s'", o->names[i]);
	}
	int rc = -1;
	struct guest *gs = guests_load(s, &names, rep);
	size_t ng = names.n;
	_cleanup_free_ bool *sel = vs_xmalloc0((ng + 1) * sizeof *sel);
	_cleanup_free_ size_t *queue = vs_xmalloc0((ng + 1) * sizeof *queue);
	size_t qh = 0, qt = 0;
	struct vs_as_graph g = { 0 };
	_cleanup_free_ int *wave = NULL, *state = NULL;
	_cleanup_free_ struct job *jobs = NULL;
	_cleanup_free_ size_t *order = NULL;

	/* the roots: the named guests, or the mark's */
	for (size_t i = 0; i < ng; i++) {
		bool root = o->n_names ? false : (gs[i].mark && !strcmp(gs[i].mark, mark));
		for (size_t k = 0; k < o->n_names; k++)
			if (!strcmp(o->names[k], gs[i].name))
				root = true;
		if (!root)
			continue;
		if (gs[i].disabled && !o->stop) {
			vs_say(rep, "skipping %s: disabled", gs[i].name);
			continue;
		}
		sel[i] = true;
		queue[qt++] = i;
	}
	/* what they depend on, transitively */
	while (qh < qt) {
		size_t i = queue[qh++];
		if (gs[i].disabled && !o->stop)
			continue; /* pulled in as a dependency: its dependents are skipped */
		for (size_t k = 0; k < gs[i].depends.n; k++) {
			const char *dn = gs[i].depends.v[k];
			long j = guest_find(gs, ng, dn);
			if (j < 0) {
				if (o->stop) {
					vs_say(rep, "warning: guest %s depends on '%s', which is not a configured guest",
					       gs[i].name, dn);
					continue;
				}
				vs_fail(err, VS_E_INVALID, 0,
					"guest %s depends on '%s', which is not a configured guest; nothing started",
					gs[i].name, dn);
				goto out;
			}
			if (!sel[j]) {
				sel[j] = true;
				queue[qt++] = (size_t)j;
			}
		}
	}
	/* the graph, in name order */
	for (size_t i = 0; i < ng; i++)
		if (sel[i])
			vs_as_graph_add(&g, gs[i].name);
	for (size_t i = 0; i < ng; i++) {
		if (!sel[i] || (gs[i].disabled && !o->stop))
			continue;
		size_t v = (size_t)vs_as_graph_find(&g, gs[i].name);
		for (size_t k = 0; k < gs[i].depends.n; k++) {
			long d = vs_as_graph_find(&g, gs[i].depends.v[k]);
			if (d >= 0)
				vs_as_graph_edge(&g, v, (size_t)d);
		}
	}
	wave = vs_xmalloc0((g.n + 1) * sizeof *wave);
	int nwaves = 0;
	if (vs_as_graph_waves(&g, o->stop, wave, &nwaves, err) < 0) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof err->msg - l, "; nothing %s", o->stop ? "stopped" : "started");
		goto out;
	}
	state = vs_xmalloc0((g.n + 1) * sizeof *state);
	jobs = vs_xmalloc0((g.n + 1) * sizeof *jobs);
	order = vs_xmalloc0((g.n + 1) * sizeof *order);
	for (size_t v = 0; v < g.n; v++) {
		order[v] = v;
		jobs[v].fd = -1;
		long i = guest_find(gs, ng, g.nodes[v].name);
		state[v] = (gs[i].disabled && !o->stop) ? S_DISABLED : S_WAIT;
	}
	qsort_r(order, g.n, sizeof *order, cmp_order, wave);
	struct run R = { .s = s, .o = o, .rep = rep, .g = &g, .state = state, .jobs = jobs, .order = order };

	if (o->dry_run) {
		_cleanup_free_ size_t *buf = vs_xmalloc0((g.n + 1) * sizeof *buf);
		propagate_skips(&R, buf);
		R.nfailed = 0;
		if (!g.n)
			vs_say(rep, "no guest to %s (mark '%s')", o->stop ? "stop" : "start", mark);
		for (int w = 1; w <= nwaves; w++) {
			_cleanup_free_ char *line = vs_asprintf("wave %d:", w);
			bool any = false;
			for (size_t k = 0; k < g.n; k++) {
				size_t v = order[k];
				if (wave[v] != w || state[v] != S_WAIT)
					continue;
				char *n2 = vs_asprintf("%s %s", line, g.nodes[v].name);
				free(line);
				line = n2;
				any = true;
			}
			if (any)
				vs_say(rep, "%s", line);
		}
		rc = 0;
		goto out;
	}
	if (!g.n)
		vs_say(rep, "no guest to %s (mark '%s')", o->stop ? "stop" : "start", mark);
	schedule(&R);
	*nfailed = R.nfailed;
	rc = 0;
out:
	vs_as_graph_free(&g);
	guests_free(gs, ng);
	return rc;
}
