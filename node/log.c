/* log.c — log lines through the application's callback, stats snapshots (the node's counters
 * plus the transport's defensive ones, transport/transport.h nn_tp_guard, as tp_*). */
#include <stdio.h>
#include <string.h>

#include "node/node_impl.h"

const char *nn_node_hex(const nn_id *id, char buf[65]) { return nn_kad_id_to_hex(buf, id); }

void nn_node_log(nn_node *n, int level, const char *fmt, ...)
{
	if (!n->opts.cb.on_log || level < n->opts.log_level)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->opts.cb.on_log(n->opts.cb.user, level, line);
}

void nn_node_get_stats(nn_node *n, nn_node_stats *out)
{
	n->stats.edges = nn_routing_edges_len(n->edges);
	n->stats.edges_out = nn_routing_edges_outgoing(n->edges);
	n->stats.knowledge = nn_routing_kt_size(n->kt);
	n->stats.kt_addrs_unpacked = nn_routing_kt_unpacked(n->kt);
	n->stats.edges_punched = n->stats.edges_relayed = 0;
	for (size_t i = 0; i < n->stats.edges; i++) {
		const char *p = nn_node_edge_path(n, nn_routing_edges_at(n->edges, i)->conn);
		n->stats.edges_relayed += p[0] == 'r';
		n->stats.edges_punched += p[0] == 'p' || p[0] == 'b';
	}
	n->stats.media_sessions = nn_node_media_list(n, NULL, 0);
	nn_tp_guard g;
	nn_tp_guard_stats(n->tp, &g); /* the transport's own refusals, zero on mem */
#define NN_COPY_GUARD_(name, desc) n->stats.tp_##name = g.name;
	NN_TP_GUARD_STATS(NN_COPY_GUARD_)
#undef NN_COPY_GUARD_
	*out = n->stats;
}

const char *nn_node_stat(const nn_node_stats *s, size_t i, uint64_t *value)
{
	static const char *const names[] = {
#define NN_STAT_NAME_(name, desc) #name,
		NN_NODE_STATS(NN_STAT_NAME_)
#undef NN_STAT_NAME_
	};
	if (i >= sizeof names / sizeof names[0])
		return NULL;
	if (value)
		memcpy(value, (const uint64_t *)(const void *)s + i, sizeof *value);
	return names[i];
}
