/* hello.c — the example in README.md (ci/test.sh checks they match). */
#include <stdio.h>
#include <xchan/xchan.h>

/* A go task: parks on the channel until a value arrives, answers, returns. */
static int32_t
greeter(void *arg, xchan_val *result)
{
	xchan_chan *ch = arg;
	xchan_val name;
	const char *s;
	size_t len;

	if (xchan_take(&name, ch, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
		return XCHAN_ECLOSED;
	xchan_get_string(name, &s, &len);
	printf("hello, %.*s (from a go task)\n", (int)len, s);
	xchan_val_release(name);
	*result = xchan_val_int(42);
	return XCHAN_OK;
}

int
main(void)
{
	xchan_chan *ch, *done, *timeout;
	xchan_val v;
	xchan_result r;
	int64_t answer;

	/* (let [ch (chan 1) done (go ...)] (>!! ch "world") ...) */
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	xchan_go(&done, greeter, ch, NULL);
	xchan_val_string(&v, "world", 5);
	xchan_put(ch, v, XCHAN_DEADLINE_NEVER);

	/* (alts!! [done (timeout 1000)]) */
	xchan_timeout(&timeout, 1000);
	xchan_clause clauses[2] = {
	    {XCHAN_ALT_TAKE, 0, done, {0}},
	    {XCHAN_ALT_TAKE, 0, timeout, {0}},
	};
	xchan_alts(&r, clauses, 2, 0, XCHAN_DEADLINE_NEVER);
	if (r.index == 0 && xchan_get_int(r.val, &answer) == XCHAN_OK)
		printf("the task returned %lld\n", (long long)answer);
	else
		printf("timed out\n");

	xchan_chan_release(timeout);
	xchan_chan_release(done);
	xchan_chan_release(ch);
	return 0;
}
