/* tp.c — shared helpers for transport implementations: lending received packets to the sink. */
#include "transport/transport.h"

void nn_tp_deliver_frame(nn_tp *tp, nn_conn *c, nn_pkt *pkt)
{
	c->rx_frames++;
	c->rx_bytes += pkt->len;
	tp->stats.rx_frames++;
	tp->stats.rx_bytes += pkt->len;
	if (tp->sink.on_frame)
		tp->sink.on_frame(tp->sink.ctx, c, &pkt);
	nn_pkt_release(pkt); /* NULL if the callback took it */
}

void nn_tp_deliver_datagram(nn_tp *tp, nn_conn *c, nn_pkt *pkt)
{
	tp->stats.dgram_rx++;
	if (tp->sink.on_datagram)
		tp->sink.on_datagram(tp->sink.ctx, c, &pkt);
	nn_pkt_release(pkt);
}
