/* rendezvous.h — the rendezvous layer in one include: Hello/Reply (rdv.h), pending Hellos
 * (pending.h), the sealed box (sbox.h) and the replay cache (replay.h). Pure; see each header
 * for purpose and rules. */
#ifndef NN_RENDEZVOUS_H
#define NN_RENDEZVOUS_H

#include "rendezvous/pending.h"
#include "rendezvous/rdv.h"
#include "rendezvous/replay.h"
#include "rendezvous/sbox.h"

#endif
