/* socket.c — the endpoint's one UDP socket: bind (IPv6 dual-stack, IPv4 fallback), batched
 * receive (recvmmsg) and send (UDP GSO on Linux when the kernel has it, else sendmmsg), all
 * non-blocking. No allocation after open. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static int bind_one(nn_quic_ep *ep, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int zero = 0, big = 4 << 20;
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (bind(fd, sa, len) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	ep->fd = fd;
	ep->family = sa->sa_family;
	ep->local_len = sizeof ep->local;
	if (getsockname(fd, (struct sockaddr *)&ep->local, &ep->local_len) != 0) {
		close(fd);
		ep->fd = -1;
		return -EIO;
	}
	return 0;
}

int nn_quic_socket_open(nn_quic_ep *ep, const char *listen)
{
	nn_addr a;
	struct sockaddr_storage ss;
	socklen_t len;
	bool wildcard = !listen || !*listen;
	if (nn_addr_set(&a, "quic", wildcard ? "[::]:0" : listen) != 0 ||
	    nn_addr_to_sockaddr(&a, &ss, &len) != 0)
		return NN_EADDR;
	int rc = bind_one(ep, (struct sockaddr *)&ss, len);
	if (rc == -EAFNOSUPPORT && ss.ss_family == AF_INET6) {
		/* no IPv6 on this host: an unspecified v6 address falls back to 0.0.0.0 */
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
		if (!IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			return NN_EADDR;
		struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
		rc = bind_one(ep, (struct sockaddr *)&s4, sizeof s4);
	}
	if (rc)
		return NN_EIO;
	if (nn_addr_from_sockaddr(&ep->local_addr, (struct sockaddr *)&ep->local, ep->local_len))
		return NN_EIO;
#ifdef __linux__
	int seg = 1200;
	ep->gso = setsockopt(ep->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0;
	if (ep->gso) {
		seg = 0;
		(void)setsockopt(ep->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg);
	}
#endif
#if defined(__linux__) && defined(UDP_GRO)
	int one = 1;
	ep->gro = setsockopt(ep->fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
#endif
	/* with GRO the kernel hands over trains of same-size datagrams in one buffer */
	ep->rx_n = ep->gro ? NN_QUIC_GRO_BATCH : NN_QUIC_RX_BATCH;
	ep->rx_sz = ep->gro ? NN_QUIC_GRO_BUFSZ : NN_QUIC_RX_BUFSZ;
	ep->rbuf = malloc(ep->rx_n * ep->rx_sz);
	if (!ep->rbuf)
		return NN_ENOMEM;
	for (size_t i = 0; i < ep->rx_n; i++) {
		ep->riov[i].iov_base = ep->rbuf + i * ep->rx_sz;
		ep->riov[i].iov_len = ep->rx_sz;
	}
	return 0;
}

void nn_quic_socket_close(nn_quic_ep *ep)
{
	if (ep->fd >= 0)
		close(ep->fd);
	ep->fd = -1;
	free(ep->rbuf);
	ep->rbuf = NULL;
}

int nn_quic_sockaddr_for(nn_quic_ep *ep, const nn_addr *a, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	if (nn_addr_to_sockaddr(a, ss, len) != 0)
		return NN_EADDR;
	if (ep->family == AF_INET6 && ss->ss_family == AF_INET) {
		struct sockaddr_in s4;
		memcpy(&s4, ss, sizeof s4);
		struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = s4.sin_port};
		s6.sin6_addr.s6_addr[10] = s6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6.sin6_addr.s6_addr[12], &s4.sin_addr, 4);
		memset(ss, 0, sizeof *ss);
		memcpy(ss, &s6, sizeof s6);
		*len = sizeof s6;
	} else if (ep->family == AF_INET && ss->ss_family == AF_INET6) {
		return NN_EADDR; /* IPv4-only socket */
	}
	return 0;
}

static int send_plain(nn_quic_ep *ep, int fd, const struct sockaddr *to, socklen_t tolen,
		      const uint8_t *buf, size_t total, size_t size)
{
	size_t off = 0;
	while (off < total) {
		unsigned n = 0;
		for (; n < NN_QUIC_TX_BATCH && off < total; n++) {
			size_t l = total - off < size ? total - off : size;
			ep->tiov[n].iov_base = (void *)(buf + off);
			ep->tiov[n].iov_len = l;
			memset(&ep->tmsg[n].msg_hdr, 0, sizeof ep->tmsg[n].msg_hdr);
			ep->tmsg[n].msg_hdr.msg_name = (void *)to;
			ep->tmsg[n].msg_hdr.msg_namelen = tolen;
			ep->tmsg[n].msg_hdr.msg_iov = &ep->tiov[n];
			ep->tmsg[n].msg_hdr.msg_iovlen = 1;
			off += l;
		}
		int r;
		do
			r = sendmmsg(fd, ep->tmsg, n, 0);
		while (r < 0 && errno == EINTR);
		ep->st.tx_syscalls++;
		if (r < 0)
			return NN_EIO; /* EAGAIN too: QUIC recovers the loss */
		ep->st.tx_datagrams += (uint64_t)r;
	}
	ep->st.tx_bytes_udp += total;
	return 0;
}

int nn_quic_socket_send(nn_quic_ep *ep, const struct sockaddr *to, socklen_t tolen,
			const uint8_t *buf, size_t total, size_t size)
{
	return nn_quic_socket_send_fd(ep, ep->fd, to, tolen, buf, total, size);
}

int nn_quic_socket_send_fd(nn_quic_ep *ep, int fd, const struct sockaddr *to, socklen_t tolen,
			   const uint8_t *buf, size_t total, size_t size)
{
	if (total == 0)
		return 0;
#ifdef __linux__
	if (ep->gso && total > size) {
		union {
			char b[CMSG_SPACE(sizeof(uint16_t))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = (void *)buf, .iov_len = total};
		struct msghdr mh = {.msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = ctl.b,
				    .msg_controllen = sizeof ctl.b};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		uint16_t seg = (uint16_t)size;
		memcpy(CMSG_DATA(cm), &seg, sizeof seg);
		ssize_t r;
		do
			r = sendmsg(fd, &mh, 0);
		while (r < 0 && errno == EINTR);
		ep->st.tx_syscalls++;
		if (r >= 0) {
			ep->st.tx_datagrams += (total + size - 1) / size;
			ep->st.tx_bytes_udp += total;
			return 0;
		}
		if (errno != EIO && errno != EINVAL)
			return NN_EIO;
		ep->gso = false; /* the device refused segmentation: stop trying */
	}
#endif
	return send_plain(ep, fd, to, tolen, buf, total, size);
}

void nn_quic_socket_read(nn_quic_ep *ep)
{
	/* bounded per wakeup so one busy socket cannot starve the loop's timers */
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < ep->rx_n; i++) {
			memset(&ep->rmsg[i].msg_hdr, 0, sizeof ep->rmsg[i].msg_hdr);
			ep->rmsg[i].msg_hdr.msg_name = &ep->rsrc[i];
			ep->rmsg[i].msg_hdr.msg_namelen = sizeof ep->rsrc[i];
			ep->rmsg[i].msg_hdr.msg_iov = &ep->riov[i];
			ep->rmsg[i].msg_hdr.msg_iovlen = 1;
			if (ep->gro) {
				ep->rmsg[i].msg_hdr.msg_control = ep->rctl[i];
				ep->rmsg[i].msg_hdr.msg_controllen = sizeof ep->rctl[i];
			}
		}
		int n;
		do
			n = recvmmsg(ep->fd, ep->rmsg, (unsigned)ep->rx_n, MSG_DONTWAIT, NULL);
		while (n < 0 && errno == EINTR);
		ep->st.rx_syscalls++;
		if (n <= 0)
			break;
		/* one reading per batch: every datagram in it was in the socket buffer by now */
		ep->rx_at = nn_quic_now(ep);
		for (int i = 0; i < n && !ep->destroying; i++) {
			struct msghdr *mh = &ep->rmsg[i].msg_hdr;
			size_t len = ep->rmsg[i].msg_len, seg = len;
			const uint8_t *buf = ep->riov[i].iov_base;
#if defined(__linux__) && defined(UDP_GRO)
			for (struct cmsghdr *cm = ep->gro ? CMSG_FIRSTHDR(mh) : NULL; cm;
			     cm = CMSG_NXTHDR(mh, cm))
				if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
					int g;
					memcpy(&g, CMSG_DATA(cm), sizeof g);
					if (g > 0)
						seg = (size_t)g;
				}
#endif
			if (mh->msg_flags & MSG_TRUNC) {
				ep->st.rx_datagrams++;
				ep->st.rx_garbage++; /* larger than any buffer: never ours */
				continue;
			}
			/* one datagram, or a GRO train of `seg`-byte datagrams (the last may be
			 * shorter) from one source */
			for (size_t off = 0; off < len && !ep->destroying; off += seg) {
				size_t l = len - off < seg ? len - off : seg;
				ep->st.rx_datagrams++;
				ep->st.rx_bytes_udp += l;
				if (l > NN_QUIC_RX_BUFSZ) {
					ep->st.rx_garbage++; /* over our max_udp_payload_size */
					continue;
				}
				nn_quic_ep_datagram(ep, buf + off, l, (struct sockaddr *)&ep->rsrc[i],
						    mh->msg_namelen);
			}
			if (len == 0) {
				ep->st.rx_datagrams++;
				nn_quic_ep_datagram(ep, buf, 0, (struct sockaddr *)&ep->rsrc[i],
						    mh->msg_namelen);
			}
		}
		ep->rx_at = 0;
		nn_quic_flush(ep);
		if ((size_t)n < ep->rx_n)
			break;
	}
}
