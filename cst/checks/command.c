#include "cst/checks.h"
#include "excerpt.h"

/* Why a stream was cut: its own ceiling or the run's budget. */
static int cut_note(struct cst_result *r, const char *stream, const struct cst_buf *b)
{
	if (!b->truncated)
		return 0;
	if (b->over_budget)
		return cst_result_fail(r,
				       "%s was cut at %zu bytes: the run's output budget of %zu bytes (--max-output) was used up",
				       stream, b->len, b->budget->total);
	return cst_result_fail(r, "%s was cut at %zu bytes", stream, b->len);
}

static int judge(const struct cst_command_test *t, const struct cst_command_outcome *o, struct cst_result *r)
{
	/* A command that never ran has no output or exit code to judge. */
	if (o->failure)
		return cst_result_fail(r, "%s", o->failure);
	if (o->timed_out &&
	    cst_result_fail(r, "Test '%s' timed out after %g s; the command was killed", t->name.s,
			    o->timeout > 0 ? o->timeout : t->timeout) < 0)
		return -1;
	if (cut_note(r, "stdout", &o->out) < 0 || cut_note(r, "stderr", &o->err) < 0)
		return -1;
	if (cst_check_patterns(r, &t->expected_error, &t->excluded_error, "error", o->err.data, o->err.len) < 0 ||
	    cst_check_patterns(r, &t->expected_output, &t->excluded_output, "output", o->out.data, o->out.len) < 0)
		return -1;
	/* A command killed by cst (timeout, output past the cap) has no exit
	 * code of its own to judge. */
	bool killed = o->timed_out || o->out.truncated || o->err.truncated;
	if (!killed && o->exit_code != t->exit_code &&
	    cst_result_fail(r, "Test '%s' exited with incorrect error code. Expected: %d, Actual: %d", t->name.s,
			    t->exit_code, o->exit_code) < 0)
		return -1;
	return 0;
}

int cst_check_command(const struct cst_command_test *t, struct cst_command_outcome *o, struct cst_result *r)
{
	if (cst_result_init(r, "Command Test: %s", t->name.s) < 0)
		return -1;
	r->duration_ns = o->duration_ns;
	if (judge(t, o, r) < 0)
		return -1;
	/* Judged on all of it; the report holds it, cut where escaping would
	 * make it more than twice the per-stream ceiling. */
	return cst_result_take_output(r, &o->out, &o->err, 2 * (size_t)CST_OUTPUT_MAX);
}
