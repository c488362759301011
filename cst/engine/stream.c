/* Demultiplexing the engine's attach/logs streams into stdout and stderr.
 *
 * Without a TTY every chunk is a frame: byte 0 the stream (0 stdin, 1
 * stdout, 2 stderr, 3 an engine error), bytes 4..7 the payload length, big
 * endian.  libcurl hands the body over in pieces that ignore frame
 * boundaries, so the parser keeps a partial header and the bytes still due
 * for the current frame between calls. */
#include "cst/engine/client.h"

#include <string.h>

void dk_demux_init(struct dk_demux *dm, struct cst_buf *out, struct cst_buf *err, bool tty)
{
	memset(dm, 0, sizeof(*dm));
	dm->out = out;
	dm->err = err;
	dm->tty = tty;
}

static struct cst_buf *target(struct dk_demux *dm)
{
	/* Stream 3 carries the engine's own error text; it belongs with
	 * what the user sees on stderr. */
	return dm->stream == 2 || dm->stream == 3 ? dm->err : dm->out;
}

int dk_demux_feed(struct dk_demux *dm, const char *p, size_t n)
{
	if (dm->bad || dm->nomem)
		return -1;
	if (dm->tty) {
		if (cst_buf_append(dm->out, p, n) < 0) {
			dm->nomem = true;
			return -1;
		}
		return 0;
	}
	while (n) {
		if (dm->left == 0) {
			size_t take = sizeof(dm->hdr) - dm->hdr_len;
			if (take > n)
				take = n;
			memcpy(dm->hdr + dm->hdr_len, p, take);
			dm->hdr_len += take;
			p += take;
			n -= take;
			if (dm->hdr_len < sizeof(dm->hdr))
				return 0;
			dm->hdr_len = 0;
			if (dm->hdr[0] > 3 || dm->hdr[1] || dm->hdr[2] || dm->hdr[3]) {
				dm->bad = true;
				return -1;
			}
			dm->stream = dm->hdr[0];
			dm->left = (size_t)dm->hdr[4] << 24 | (size_t)dm->hdr[5] << 16 | (size_t)dm->hdr[6] << 8 |
				   (size_t)dm->hdr[7];
			continue;
		}
		size_t take = dm->left < n ? dm->left : n;
		if (cst_buf_append(target(dm), p, take) < 0) {
			dm->nomem = true;
			return -1;
		}
		dm->left -= take;
		p += take;
		n -= take;
	}
	return 0;
}

bool dk_demux_partial(const struct dk_demux *dm)
{
	return !dm->tty && (dm->hdr_len || dm->left);
}

size_t dk_demux_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	size_t n = size * nmemb;
	return dk_demux_feed(ud, p, n) < 0 ? 0 : n;
}
