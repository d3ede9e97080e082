/* nat.h — NAT traversal logic, pure: what a node believes about its own NAT, and the codecs of
 * the hole-punch signalling. No I/O, no threads, no clock: time comes in as `now`.
 *
 * Files, one concern each:
 * - reflex.h / reflex.c: the consolidator — neighbours' reports of the address our packets
 *   arrive from (Pong), one per reporter, turned into a verdict: the confirmed reflexive
 *   address (corroborated by reporters in different subnets; private-range reporters do not
 *   vote on the public mapping) and the NAT's type, symmetric only on evidence (DESIGN §5.6);
 * - connect.h / connect.c: Connect / ConnectAck payloads (routed types 10 / 11), strict, with
 *   the optional NAT hint byte (a libnodenet addition the reference ignores) and the birthday
 *   role table decided from our verdict and the other side's hint;
 * - keepalive.h / keepalive.c: how long our NAT keeps an idle mapping, learned from silences
 *   that something outlived and from probes that failed; the keepalive interval follows it;
 * - kaframe.h / kaframe.c: the keepalive probe and echo frames (libnodenet additions);
 * - portmap.h / portmap.c: the port-mapping policy (map, renew at half the lifetime, back off,
 *   lapse) as a state machine on `now`; the UPnP / NAT-PMP calls are node/portmap.c's;
 * - relay.h / relay.c: the volunteer-relay frames (per-edge types 12-14, reference-compatible)
 *   and libnodenet's RelayRefuse (62).
 * Tiers: the codecs are protocol (nodenet v1, docs/PROTOCOL.md); the hint byte, the refusal
 * frame, every voting rule, threshold and bound here are local policy.
 */
#ifndef NN_NAT_H
#define NN_NAT_H

#include "nat/connect.h"
#include "nat/kaframe.h"
#include "nat/keepalive.h"
#include "nat/pcp.h"
#include "nat/portmap.h"
#include "nat/reflex.h"
#include "nat/relay.h"

#endif
