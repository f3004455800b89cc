#include "source.h"

/* Counts a packet and hands it to the writer; a gone reader or a write
 * error stops the capture loop (a listening writer waits for the next). */
void tl_sink_packet(struct tl_sink *s, uint32_t ts_sec, uint32_t ts_nsec, const struct sll2_meta *m,
		    const uint8_t *extra, uint32_t extralen, const uint8_t *payload, uint32_t caplen,
		    uint32_t origlen)
{
	s->c.received++;
	s->c.bytes += origlen + extralen;
	enum pw_result r = pw_packet(s->w, ts_sec, ts_nsec, m, extra, extralen, payload, caplen,
				     origlen, s->now_ns);
	if (r == PW_CLOSED && s->w->listen_fd < 0)
		s->stop = 1;
	else if (r == PW_ERROR)
		s->stop = 2;
}
