/*
 * main.c — xchan-conformance, the C runner of the conformance suite.
 *
 *   xchan-conformance --cases DIR [--json] [--kind thread|task]
 *                     [--case NAME] [--list]
 *
 * Runs every case of DIR/<file>.json under each concurrency kind the case allows
 * ("thread": each proc on its own OS thread; "task": each proc as a go
 * task), and prints one line per (case, kind) with the diff of traces on a
 * mismatch, or with --json a JSON list of results (the runner contract in
 * tests/conformance/README.md).  Cases marked "isolated" run in a fresh
 * process (this program re-executed with --case and --kind).  Exit status:
 * 0 when every result passed, 1 otherwise.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

static const char *kind_names[] = {"thread", "task"};

/* ---- the task error hook records into the case being run ---- */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static world *g_world;

static void
task_error_hook(void *user, const char *task_name, int32_t err)
{
	pthread_mutex_lock(&g_mu);
	if (g_world) {
		cJSON *e = cJSON_CreateArray();
		cJSON_AddItemToArray(e, cJSON_CreateString(task_name));
		cJSON_AddItemToArray(e,
		    cJSON_CreateString(xchan_err_name(err)));
		pthread_mutex_lock(&g_world->mu);
		cJSON_AddItemToArray(g_world->task_errors, e);
		pthread_mutex_unlock(&g_world->mu);
	}
	pthread_mutex_unlock(&g_mu);
}

/* ---- comparing a result with its expectation ---- */

static int
cmp_printed(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts a JSON array in place by the printed form of its items. */
static void
sort_array(cJSON *a)
{
	int n = cJSON_GetArraySize(a);
	if (n < 2)
		return;
	char **s = malloc(n * sizeof *s);
	for (int i = 0; i < n; i++)
		s[i] = cJSON_PrintUnformatted(cJSON_GetArrayItem(a, i));
	qsort(s, n, sizeof *s, cmp_printed);
	while (cJSON_GetArraySize(a) > 0)
		cJSON_DeleteItemFromArray(a, 0);
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_Parse(s[i]));
		free(s[i]);
	}
	free(s);
}

static cJSON *
normalize_expect(const cJSON *op)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(op, "expect");
	cJSON *x;
	if (!e)
		x = res_err(XCHAN_OK);
	else if (cJSON_IsString(e)) {
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "err", e->valuestring);
	} else {
		x = cJSON_Duplicate(e, 1);
		if (!cJSON_GetObjectItemCaseSensitive(x, "err"))
			cJSON_AddStringToObject(x, "err", "OK");
	}
	if (cJSON_GetObjectItemCaseSensitive(op, "elapsed_ms"))
		cJSON_AddStringToObject(x, "time", "ok");
	if (arg_bool(op, "unordered", 0))
		sort_array(cJSON_GetObjectItemCaseSensitive(x, "val"));
	return x;
}

/* elapsed_ms is measured from the op's start, or with "since" from the
 * start of the op marked with that name (e.g. the timeout's creation). */
static void
check_window(world *w, const cJSON *op, cJSON *actual, int64_t t0)
{
	int64_t elapsed_ns = xchan_now() - t0;
	const char *since = arg_str(op, "since", NULL);
	if (since) {
		pthread_mutex_lock(&w->mu);
		const cJSON *m =
		    cJSON_GetObjectItemCaseSensitive(w->marks, since);
		if (cJSON_IsNumber(m))
			elapsed_ns = xchan_now() - (int64_t)m->valuedouble;
		pthread_mutex_unlock(&w->mu);
	}
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(op, "elapsed_ms");
	if (cJSON_GetArraySize(ms) != 2)
		return;
	double lo = cJSON_GetArrayItem(ms, 0)->valuedouble;
	double hi = cJSON_GetArrayItem(ms, 1)->valuedouble;
	double got = (double)elapsed_ns / 1e6;
	char buf[96];
	if (got >= lo && got <= hi)
		snprintf(buf, sizeof buf, "ok");
	else
		snprintf(buf, sizeof buf, "%.1f ms, outside [%g, %g]", got, lo,
		    hi);
	cJSON_AddStringToObject(actual, "time", buf);
}

void
run_ops(world *w, const char *path, const cJSON *ops)
{
	int i = 0;
	const cJSON *op;
	cJSON_ArrayForEach(op, ops)
	{
		int64_t t0 = xchan_now();
		const char *mark = arg_str(op, "mark", NULL);
		if (mark) {
			pthread_mutex_lock(&w->mu);
			cJSON_DeleteItemFromObjectCaseSensitive(w->marks, mark);
			cJSON_AddNumberToObject(w->marks, mark, (double)t0);
			pthread_mutex_unlock(&w->mu);
		}
		cJSON *actual = exec_op(w, path, op);
		check_window(w, op, actual, t0);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(op, "expect");
		int any = cJSON_IsString(e) && !strcmp(e->valuestring, "any");
		cJSON *expect = normalize_expect(op);
		if (arg_bool(op, "unordered", 0))
			sort_array(
			    cJSON_GetObjectItemCaseSensitive(actual, "val"));
		int has_one_of = cJSON_GetObjectItemCaseSensitive(op,
		                     "expect_one_of") != NULL;
		int ok = any || ((e || !has_one_of) &&
		                    cJSON_Compare(expect, actual, 1));
		/* "expect_one_of": a real race with several right answers. */
		const cJSON *alt;
		cJSON_ArrayForEach(alt,
		    cJSON_GetObjectItemCaseSensitive(op, "expect_one_of"))
		{
			cJSON *wrap = cJSON_CreateObject();
			cJSON_AddItemToObject(wrap, "expect",
			    cJSON_Duplicate(alt, 1));
			cJSON_AddItemToObject(wrap, "op",
			    cJSON_CreateString(arg_str(op, "op", "?")));
			cJSON *x = normalize_expect(wrap);
			if (cJSON_Compare(x, actual, 1))
				ok = 1;
			cJSON_Delete(x);
			cJSON_Delete(wrap);
		}
		cJSON *entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "proc", path);
		cJSON_AddNumberToObject(entry, "i", i);
		cJSON_AddStringToObject(entry, "op", arg_str(op, "op", "?"));
		cJSON_AddItemToObject(entry, "expect", expect);
		cJSON_AddItemToObject(entry, "actual", actual);
		cJSON_AddBoolToObject(entry, "ok", ok);
		world_trace(w, entry);
		i++;
		/* A proc stops at its first mismatch: the ops that follow were
		 * written for the expected state and could block for ever. */
		if (!ok)
			break;
	}
}

/* ---- procs ---- */

typedef struct proc_arg {
	world *w;
	const cJSON *ops;
	char path[64];
} proc_arg;

static void *
proc_thread(void *p)
{
	proc_arg *a = p;
	run_ops(a->w, a->path, a->ops);
	return NULL;
}

static int32_t
proc_task(void *p, xchan_val *result)
{
	proc_arg *a = p;
	run_ops(a->w, a->path, a->ops);
	return XCHAN_OK;
}

/* ---- one case under one kind ---- */

/* Set when a case's procs could not be freed: the runner must stop. */
static int g_stuck;

/* Waits until `deadline` for a proc; 1 when it finished. */
static int
join_proc(int kind, pthread_t t, xchan_chan *task, int64_t deadline)
{
	if (kind == KIND_THREAD) {
		struct timespec ts;
		int64_t left = deadline - xchan_now();
		clock_gettime(CLOCK_REALTIME, &ts);
		if (left < 0)
			left = 0;
		ts.tv_sec += left / 1000000000;
		ts.tv_nsec += left % 1000000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		return pthread_timedjoin_np(t, NULL, &ts) == 0;
	}
	xchan_val v = xchan_val_nil();
	int32_t rc = xchan_take(&v, task, deadline);
	xchan_val_release(v);
	return rc != XCHAN_ETIMEDOUT;
}

/* A case past its deadline: frees procs blocked on channels (closing every
 * channel releases takers; draining releases putters, whose puts survive
 * the close), then waits a little more.  1 when every proc and spawned task
 * finished, so that the world can be cleaned up and the runner go on. */
static int
rescue(world *w, int kind, int np, int *started, const pthread_t *threads,
    xchan_chan **tasks)
{
	int64_t drain_until = xchan_now() + 1000000000LL;
	int64_t until = drain_until + 2000000000LL;
	pthread_mutex_lock(&w->mu);
	size_t n = w->nobjs;
	named *objs = malloc((n ? n : 1) * sizeof *objs);
	memcpy(objs, w->objs, n * sizeof *objs);
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < n; i++)
		if (objs[i].type == OBJ_CHAN)
			xchan_chan_close(objs[i].ptr);
	while (xchan_now() < drain_until) {
		for (size_t i = 0; i < n; i++) {
			xchan_val v;
			if (objs[i].type != OBJ_CHAN)
				continue;
			while (xchan_poll(&v, objs[i].ptr) == XCHAN_OK)
				xchan_val_release(v);
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	free(objs);
	int all = 1;
	for (int i = 0; i < np; i++) {
		if (started[i] != 1)
			continue;
		if (join_proc(kind, threads[i], tasks[i], until))
			started[i] = 2;
		else
			all = 0;
	}
	while (all && atomic_load(&w->spawns) > 0 && xchan_now() < until) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return all && atomic_load(&w->spawns) == 0;
}

static cJSON *
result_json(const char *file, const char *name, int kind, const char *status,
    cJSON *diff, double ms)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "case", name);
	cJSON_AddStringToObject(r, "file", file);
	cJSON_AddStringToObject(r, "lang", "c");
	cJSON_AddStringToObject(r, "kind", kind_names[kind]);
	cJSON_AddStringToObject(r, "status", status);
	cJSON_AddItemToObject(r, "diff", diff ? diff : cJSON_CreateArray());
	cJSON_AddNumberToObject(r, "ms", (int)ms);
	return r;
}

static cJSON *
run_case(const char *file, const cJSON *c, int kind)
{
	const char *name = arg_str(c, "name", "?");
	int64_t t0 = xchan_now();
	world *w = calloc(1, sizeof *w);
	world_init(w, kind, t0 + arg_int(c, "timeout_ms", 20000) * 1000000);
	pthread_mutex_lock(&g_mu);
	g_world = w;
	pthread_mutex_unlock(&g_mu);

	cJSON *diff = cJSON_CreateArray();
	const cJSON *chans = cJSON_GetObjectItemCaseSensitive(c, "chans");
	const cJSON *spec;
	int setup_ok = 1;
	cJSON_ArrayForEach(spec, chans)
	{
		xchan_chan_opts o;
		xchan_chan *ch = NULL;
		int32_t rc = parse_chan_opts(spec, &o);
		if (rc == XCHAN_OK)
			rc = xchan_chan_new(&ch, &o);
		if (rc != XCHAN_OK) {
			char buf[160];
			snprintf(buf, sizeof buf, "channel %s: %s",
			    spec->string, xchan_err_name(rc));
			cJSON_AddItemToArray(diff, cJSON_CreateString(buf));
			setup_ok = 0;
			continue;
		}
		world_put(w, spec->string, OBJ_CHAN, ch);
	}

	const cJSON *procs = cJSON_GetObjectItemCaseSensitive(c, "procs");
	int np = cJSON_GetArraySize(procs);
	proc_arg *args = calloc(np ? np : 1, sizeof *args);
	pthread_t *threads = calloc(np ? np : 1, sizeof *threads);
	xchan_chan **tasks = calloc(np ? np : 1, sizeof *tasks);
	int *started = calloc(np ? np : 1, sizeof *started);
	int hang = 0;
	for (int i = 0; setup_ok && i < np; i++) {
		const cJSON *p = cJSON_GetArrayItem(procs, i);
		args[i].w = w;
		args[i].ops = cJSON_GetObjectItemCaseSensitive(p, "ops");
		snprintf(args[i].path, sizeof args[i].path, "%s",
		    arg_str(p, "name", "main"));
		if (kind == KIND_THREAD) {
			started[i] = pthread_create(&threads[i], NULL,
			                 proc_thread, &args[i]) == 0;
		} else {
			xchan_go_opts go = {sizeof go, 0, args[i].path,
			    256 * 1024};
			started[i] = xchan_go(&tasks[i], proc_task, &args[i],
			                 &go) == XCHAN_OK;
		}
		if (!started[i])
			cJSON_AddItemToArray(diff,
			    cJSON_CreateString("could not start a proc"));
	}
	for (int i = 0; i < np; i++) {
		if (!started[i])
			continue;
		if (join_proc(kind, threads[i], tasks[i], w->deadline))
			started[i] = 2; /* finished */
		else
			hang = 1;
	}
	while (!hang && atomic_load(&w->spawns) > 0) {
		if (xchan_now() > w->deadline)
			hang = 1;
		else {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
	/* A case past its deadline is a hang; if closing and draining its
	 * channels frees its procs, the runner can still go on. */
	int timed_out = hang;
	if (hang)
		hang = !rescue(w, kind, np, started, threads, tasks);
	if (hang)
		g_stuck = 1;
	for (int i = 0; i < np; i++)
		if (!hang && tasks[i])
			xchan_chan_release(tasks[i]);

	/* The trace, in proc order then op order, and its mismatches. */
	int failed = !setup_ok || timed_out;
	pthread_mutex_lock(&w->mu);
	const cJSON *e;
	cJSON_ArrayForEach(e, w->trace)
	{
		/* A hung case shows its whole trace: the ops that finished. */
		if (timed_out ||
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ok"))) {
			failed = 1;
			cJSON_AddItemToArray(diff, cJSON_Duplicate(e, 1));
		}
	}
	pthread_mutex_unlock(&w->mu);
	if (timed_out)
		cJSON_AddItemToArray(diff,
		    cJSON_CreateString(hang ? "a proc or task did not finish "
		                              "before the case's deadline, not "
		                              "even once its channels were "
		                              "closed and drained"
		                            : "a proc or task did not finish "
		                              "before the case's deadline "
		                              "(closing and draining its "
		                              "channels freed it)"));
	const char *status = timed_out                  ? "hang"
	                     : atomic_load(&w->missing) ? "missing-core"
	                     : failed                   ? "fail"
	                                                : "pass";
	cJSON *r = result_json(file, name, kind, status, diff,
	    (double)(xchan_now() - t0) / 1e6);

	pthread_mutex_lock(&g_mu);
	g_world = NULL;
	pthread_mutex_unlock(&g_mu);
	if (!hang) {
		world_cleanup(w);
		free(w);
	} /* else: procs still use it; the caller exits after reporting */
	free(args);
	free(threads);
	free(tasks);
	free(started);
	return r;
}

/* ---- isolated cases: a fresh process each ---- */

static cJSON *
run_isolated(const char *self, const char *dir, const char *file,
    const cJSON *c, int kind)
{
	const char *name = arg_str(c, "name", "?");
	char cmd[4096];
	size_t at = 0;
	at += snprintf(cmd + at, sizeof cmd - at, "env");
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "env")) at +=
	    snprintf(cmd + at, sizeof cmd - at, " '%s=%s'", e->string,
	        cJSON_IsString(e) ? e->valuestring : "");
	snprintf(cmd + at, sizeof cmd - at,
	    " '%s' --cases '%s' --case '%s' --kind %s --json --in-process",
	    self, dir, name, kind_names[kind]);
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, cap = 0, n;
	char buf[4096];
	while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) {
		if (len + n + 1 > cap) {
			cap = 2 * (len + n + 1);
			out = realloc(out, cap);
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	int st = p ? pclose(p) : -1;
	if (out)
		out[len] = 0;
	cJSON *list = out ? cJSON_Parse(out) : NULL;
	free(out);
	cJSON *r = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	if (!r) {
		cJSON *d = cJSON_CreateArray();
		snprintf(buf, sizeof buf,
		    "isolated run gave no result (exit status %d)", st);
		cJSON_AddItemToArray(d, cJSON_CreateString(buf));
		r = result_json(file, name, kind, "error", d, 0);
	}
	return r;
}

/* ---- loading ---- */

typedef struct loaded {
	char *file;
	cJSON *root; /* the file's JSON */
} loaded;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static cJSON *
file_cases(cJSON *root)
{
	return cJSON_IsArray(root)
	           ? root
	           : cJSON_GetObjectItemCaseSensitive(root, "cases");
}

static int
load_dir(const char *dir, loaded **out, size_t *nout)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "xchan-conformance: cannot open %s\n", dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".json")) {
			names = realloc(names, (n + 1) * sizeof *names);
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	*out = calloc(n ? n : 1, sizeof **out);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		fseek(f, 0, SEEK_END);
		long sz = ftell(f);
		fseek(f, 0, SEEK_SET);
		char *text = malloc(sz + 1);
		text[fread(text, 1, sz, f)] = 0;
		fclose(f);
		(*out)[i].file = names[i];
		(*out)[i].root = cJSON_Parse(text);
		free(text);
		if (!(*out)[i].root || !file_cases((*out)[i].root)) {
			fprintf(stderr,
			    "xchan-conformance: %s: not a JSON list "
			    "of cases\n",
			    path);
			return -1;
		}
	}
	free(names);
	*nout = n;
	return 0;
}

static int
kind_allowed(const cJSON *c, int kind)
{
	const cJSON *ks = cJSON_GetObjectItemCaseSensitive(c, "kinds");
	if (!ks)
		return 1;
	const cJSON *k;
	cJSON_ArrayForEach(k,
	    ks) if (cJSON_IsString(k) &&
	            !strcmp(k->valuestring, kind_names[kind])) return 1;
	return 0;
}

static void
print_human(const cJSON *r)
{
	const char *st = arg_str(r, "status", "?");
	printf("%-12s %-6s %s (%d ms)\n", st, arg_str(r, "kind", "?"),
	    arg_str(r, "case", "?"), (int)arg_int(r, "ms", 0));
	if (!strcmp(st, "pass"))
		return;
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r, "diff"))
	{
		if (cJSON_IsString(d)) {
			printf("    %s\n", d->valuestring);
			continue;
		}
		char *ex = cJSON_PrintUnformatted(
		    cJSON_GetObjectItemCaseSensitive(d, "expect"));
		char *ac = cJSON_PrintUnformatted(
		    cJSON_GetObjectItemCaseSensitive(d, "actual"));
		printf("    %s #%d %s\n      expected %s\n      actual   %s\n",
		    arg_str(d, "proc", "?"), (int)arg_int(d, "i", 0),
		    arg_str(d, "op", "?"), ex, ac);
		free(ex);
		free(ac);
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *only = NULL, *kind_filter = NULL;
	int json = 0, list = 0, in_process = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cases") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--case") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind_filter = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else if (!strcmp(argv[i], "--in-process"))
			in_process = 1;
		else {
			fprintf(stderr,
			    "usage: %s --cases DIR [--json] [--kind thread|task] "
			    "[--case NAME] [--list]\n",
			    argv[0]);
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "xchan-conformance: --cases DIR is required\n");
		return 2;
	}
	loaded *files;
	size_t nfiles;
	if (load_dir(dir, &files, &nfiles) != 0)
		return 2;
	if (list) {
		for (size_t f = 0; f < nfiles; f++) {
			const cJSON *c;
			cJSON_ArrayForEach(c, file_cases(files[f].root))
			    printf("%s\n", arg_str(c, "name", "?"));
		}
		return 0;
	}
	xchan_set_task_error_hook(task_error_hook, NULL);

	cJSON *results = cJSON_CreateArray();
	int all_ok = 1, hung = 0;
	for (size_t f = 0; f < nfiles && !hung; f++) {
		const cJSON *c;
		cJSON_ArrayForEach(c, file_cases(files[f].root))
		{
			const char *name = arg_str(c, "name", "?");
			if (only && strcmp(only, name))
				continue;
			for (int k = 0; k < 2 && !hung; k++) {
				if (!kind_allowed(c, k) ||
				    (kind_filter &&
				        strcmp(kind_filter, kind_names[k])))
					continue;
				cJSON *r =
				    arg_bool(c, "isolated", 0) && !in_process
				        ? run_isolated(argv[0], dir,
				              files[f].file, c, k)
				        : run_case(files[f].file, c, k);
				const char *st = arg_str(r, "status", "?");
				if (strcmp(st, "pass"))
					all_ok = 0;
				if (g_stuck)
					hung = 1;
				if (!json)
					print_human(r);
				cJSON_AddItemToArray(results, r);
			}
			if (hung)
				break;
		}
	}
	if (json) {
		char *s = cJSON_Print(results);
		printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
	if (hung) {
		/* A proc is stuck in a blocking call: leave without cleanup. */
		fprintf(stderr, "xchan-conformance: a case hung; stopping\n");
		_exit(1);
	}
	cJSON_Delete(results);
	for (size_t f = 0; f < nfiles; f++) {
		cJSON_Delete(files[f].root);
		free(files[f].file);
	}
	free(files);
	return all_ok ? 0 : 1;
}
