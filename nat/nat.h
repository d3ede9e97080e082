/* nat.h — NAT traversal logic (not built yet): reflexive-address consolidation, punch and relay
 * signalling codecs, and the connect strategy. Pure: no I/O, time passed in.
 *
 * What it will hold (the NAT messages, types 10-14, listed in docs/PROTOCOL.md; their layouts
 * are documented there as they land):
 * - the consolidator: Pong reports of our observed address, tagged by the reporter's subnet;
 *   an address is confirmed only when reporters in different subnets agree, private-range
 *   reporters do not vote on the public mapping, and a symmetric NAT is declared only on
 *   evidence (different mapped ports for one local socket from different subnets);
 * - codecs for Connect / ConnectAck (routed) and RelayRequest / RelayGrant / RelayBind (per
 *   edge), strict like every decoder here, plus a refusal frame for relays that cannot serve;
 * - the cascade direct -> punch -> relay, each stage with its own bound.
 * Tiers: the codecs are protocol; the voting rules and bounds are local policy.
 */
#ifndef NN_NAT_H
#define NN_NAT_H
#endif
