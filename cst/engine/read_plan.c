/* How the engine source reads an image's files: the cheaper of one export
 * of the whole file system and per-path archive reads of the paths the
 * tests ask for.
 *
 * The export costs with the image's size, per-path reads with the number
 * of paths: measured through the Engine API on a Debian 12 image with
 * 2 GB of data (2.2 GB), the export read to its end took 5.5 s, while
 * 12 paths through GET /containers/{id}/archive took 0.53 s at once and
 * the archive of /usr read up to its first header 67 ms; on a 200 MB
 * Debian image the export took about 0.9 s.  Both create the same
 * container first, so only what differs is estimated.
 *
 * A per-path walk asks for every component of a path not read yet at
 * once (round one), then once more for every symlink met on the way
 * (/lib -> usr/lib, /etc/os-release -> ../usr/lib/os-release): the
 * estimate counts the distinct components, plus a few requests for the
 * links.  Not divided by the connections: the engine holds the container's
 * lock for the whole of each archive request (it mounts the container's
 * file system, streams, unmounts), so the requests on one container run
 * one after the other whatever the client does; measured here, 8 requests
 * at once took as long as 8 in a row. */
#include "cst/engine/client.h"

#include <stdio.h>

const struct dk_read_costs dk_read_costs_default = {
	.export_fixed_ms = 150.0,
	.export_ms_per_mib = 2.6,
	.request_ms = 40.0,
	.link_rounds = 3.0,
};

double dk_read_plan_export_ms(const struct dk_read_costs *c, int64_t image_bytes)
{
	return c->export_fixed_ms + c->export_ms_per_mib * ((double)image_bytes / (1024.0 * 1024.0));
}

double dk_read_plan_paths_ms(const struct dk_read_costs *c, size_t n_requests)
{
	return c->request_ms * ((double)n_requests + (n_requests ? c->link_rounds : 0.0));
}

enum dk_read_plan dk_read_plan_choose(const struct dk_read_costs *c, const struct dk_plan_input *in, char *why,
				      size_t whysz)
{
	if (in->forced == DK_PLAN_EXPORT) {
		snprintf(why, whysz, "the export, as --read-plan=export asks");
		return DK_PLAN_EXPORT;
	}
	if (in->tree_why) {
		snprintf(why, whysz, "the export: %s, which needs the whole tree%s", in->tree_why,
			 in->forced == DK_PLAN_PATHS ? " (--read-plan=paths cannot answer it)" : "");
		return DK_PLAN_EXPORT;
	}
	if (in->forced == DK_PLAN_PATHS) {
		snprintf(why, whysz, "per-path reads of %zu paths, as --read-plan=paths asks", in->n_paths);
		return DK_PLAN_PATHS;
	}
	if (!in->n_paths) {
		/* Nothing declared: only the whole tree answers whatever is asked. */
		snprintf(why, whysz, "the export: no path was declared to read on its own");
		return DK_PLAN_EXPORT;
	}
	if (in->image_bytes < 0) {
		snprintf(why, whysz, "the export: the image's size is not known");
		return DK_PLAN_EXPORT;
	}
	double e = dk_read_plan_export_ms(c, in->image_bytes);
	double p = dk_read_plan_paths_ms(c, in->n_requests);
	double mib = (double)in->image_bytes / (1024.0 * 1024.0);
	if (p < e) {
		snprintf(why, whysz,
			 "per-path reads: %zu paths, about %zu requests (~%.0f ms) cost less than exporting %.0f MiB "
			 "(~%.0f ms)",
			 in->n_paths, in->n_requests, p, mib, e);
		return DK_PLAN_PATHS;
	}
	snprintf(why, whysz,
		 "the export: %.0f MiB (~%.0f ms) costs less than %zu paths, about %zu requests (~%.0f ms)", mib, e,
		 in->n_paths, in->n_requests, p);
	return DK_PLAN_EXPORT;
}
