/* A one-line progress meter for phases a person waits on at a terminal:
 * reading an image out of the engine, command tests.  It appears only when
 * a phase lasts past a second, redraws a few times a second from a thread
 * of its own (so a phase stuck on one slow step still shows where it is),
 * and is erased when the phase ends, leaving nothing in the scrollback.
 * Phases that run at once share the line ("cst: reading app:1: ... ·
 * command tests: 3 of 10 done").
 *
 * Whether there is a terminal to draw on is the caller's decision (stderr
 * a TTY, no -q): cst_progress_start() with a NULL stream returns NULL, and
 * every other call accepts NULL and does nothing, so a phase never has to
 * ask. */
#ifndef CST_PROGRESS_H
#define CST_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

enum cst_progress_unit {
	CST_PROGRESS_BYTES, /* "12.5 MiB of about 117.0 MiB (10%)" */
	CST_PROGRESS_COUNT, /* "3 of 10 done" */
};

struct cst_progress;

/* Starts a meter for `what` ("reading cst-test/app:1") towards total
 * (0: unknown).  NULL when out is NULL or the meter cannot start; the
 * phase runs the same either way. */
struct cst_progress *cst_progress_start(FILE *out, const char *what, uint64_t total, enum cst_progress_unit unit);
/* Adds n to what is done; any thread may call it. */
void cst_progress_add(struct cst_progress *p, uint64_t n);
/* Sets what is done of a total that grows as the phase learns more (a
 * pull learns its layers as it goes). */
void cst_progress_set(struct cst_progress *p, uint64_t done, uint64_t total);
/* Writes text and a newline to out, above the meter: the meter's line is
 * erased first and drawn again at its next tick.  Without a meter (p
 * NULL), just the line. */
void cst_progress_line(struct cst_progress *p, FILE *out, const char *text);
/* Ends the phase: erases the line if it was drawn, frees p. */
void cst_progress_stop(struct cst_progress *p);

/* The stream for meters: err when it is a terminal and quiet is off, else
 * NULL. */
FILE *cst_progress_stream(FILE *err, int quiet);

#endif
