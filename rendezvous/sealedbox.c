/* sealedbox.c — the v1 sealed box: layout, seal, open, open-once.
 *
 * Ed25519 needs the signed message in one piece (pure Ed25519 has no streaming form), and it is
 * not contiguous inside the box (sender_ed_pub and the ct_len prefix sit in it). Neither seal
 * nor open allocates or puts 64 KiB on the stack: seal assembles the signed message at the
 * start of its output buffer and then moves the ciphertext into place; open assembles it in
 * the caller's plaintext buffer (hence nn_sbox_open_cap) before decrypting over it. */
#include <sodium.h>
#include <string.h>

#include "rendezvous/sbox.h"
#include "wire/wire.h"

#define SIG_LABEL_LEN (sizeof NN_SBOX_SIG_LABEL - 1)

static bool overlaps(const void *a, size_t alen, const void *b, size_t blen)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return alen && blen && x < y + blen && y < x + alen;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* label | eph_pub | x_pub | ts at msg; the ciphertext follows at msg + NN_SBOX_SIGMSG_FIXED. */
static void sigmsg_head(uint8_t *msg, const uint8_t eph_pub[32], const uint8_t x_pub[32],
			nn_time ts)
{
	memcpy(msg, NN_SBOX_SIG_LABEL, SIG_LABEL_LEN);
	memcpy(msg + SIG_LABEL_LEN, eph_pub, 32);
	memcpy(msg + SIG_LABEL_LEN + 32, x_pub, 32);
	put_be64(msg + SIG_LABEL_LEN + 64, (uint64_t)ts);
}

size_t nn_sbox_sealed_len(size_t pt_len)
{
	if (pt_len > NN_SBOX_MAX_PLAINTEXT)
		return 0;
	size_t ct_len = pt_len + NN_SBOX_TAG_LEN;
	return NN_SBOX_HEAD_LEN + nn_uvarint_len(ct_len) + ct_len + NN_ED_SIG_LEN;
}

size_t nn_sbox_open_cap(size_t ct_len) { return NN_SBOX_SIGMSG_FIXED + ct_len; }

bool nn_sbox_fresh(nn_time ts, nn_time now, nn_time max_age)
{
	if (max_age < 0)
		return false;
	/* The difference of two int64 values always fits in a uint64 when taken larger - smaller
	 * in unsigned arithmetic. */
	uint64_t d = ts <= now ? (uint64_t)now - (uint64_t)ts : (uint64_t)ts - (uint64_t)now;
	return d <= (uint64_t)max_age;
}

int nn_sbox_seal(uint8_t *out, size_t cap, const nn_identity *sender,
		 const uint8_t recipient_x_pub[NN_X_PUB_LEN], nn_time ts, const uint8_t *pt,
		 size_t pt_len, const uint8_t *aad, size_t aad_len, const uint8_t eph_sk[32])
{
	uint8_t esk[32], eph_pub[32], shared[32], key[NN_SBOX_KEY_LEN], nonce[NN_SBOX_NONCE_LEN];
	uint8_t sig[NN_ED_SIG_LEN];
	if (!out || !sender || !recipient_x_pub || (!pt && pt_len) || (!aad && aad_len))
		return NN_EINVAL;
	if (pt_len > NN_SBOX_MAX_PLAINTEXT)
		return NN_ETOOBIG;
	size_t total = nn_sbox_sealed_len(pt_len), ct_len = pt_len + NN_SBOX_TAG_LEN;
	if (cap < total)
		return NN_ENOSPC;
	if (overlaps(out, total, pt, pt_len) || overlaps(out, total, aad, aad_len) ||
	    overlaps(out, total, recipient_x_pub, NN_X_PUB_LEN) ||
	    overlaps(out, total, eph_sk, eph_sk ? 32 : 0))
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	if (eph_sk)
		memcpy(esk, eph_sk, sizeof esk);
	else
		randombytes_buf(esk, sizeof esk);

	int rc = nn_sbox_x25519_base(eph_pub, esk);
	if (rc == 0)
		rc = nn_sbox_x25519(shared, esk, recipient_x_pub);
	if (rc == 0)
		rc = nn_sbox_kdf(key, nonce, shared);
	/* Stage label | eph_pub | x_pub | ts | ct contiguously at out (fits: total exceeds it by
	 * 39 + uvarint length bytes), sign it, then lay the box out around the ciphertext. */
	uint8_t *staged_ct = out + NN_SBOX_SIGMSG_FIXED;
	if (rc == 0) {
		sigmsg_head(out, eph_pub, recipient_x_pub, ts);
		rc = nn_sbox_aead_encrypt(staged_ct, pt, pt_len, aad, aad_len, nonce, key);
	}
	if (rc == 0)
		rc = nn_identity_sign(sender, sig, out, NN_SBOX_SIGMSG_FIXED + ct_len);
	if (rc == 0) {
		size_t v = nn_uvarint_len(ct_len);
		memmove(out + NN_SBOX_HEAD_LEN + v, staged_ct, ct_len);
		memcpy(out, eph_pub, 32);
		memcpy(out + 32, sender->ed_pub, NN_ED_PUB_LEN);
		put_be64(out + 64, (uint64_t)ts);
		(void)nn_uvarint_put(out + NN_SBOX_HEAD_LEN, v, ct_len);
		memcpy(out + NN_SBOX_HEAD_LEN + v + ct_len, sig, NN_ED_SIG_LEN);
	} else {
		sodium_memzero(out, total);
	}
	sodium_memzero(esk, sizeof esk);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	sodium_memzero(nonce, sizeof nonce);
	return rc == 0 ? (int)total : rc;
}

int nn_sbox_parse(nn_sbox_view *v, const uint8_t *box, size_t len)
{
	if (!v || (!box && len))
		return NN_EINVAL;
	memset(v, 0, sizeof *v);
	nn_rd r;
	nn_rd_init(&r, box, len);
	const uint8_t *eph = nn_rd_bytes(&r, 32);
	const uint8_t *sender = nn_rd_bytes(&r, NN_ED_PUB_LEN);
	nn_time ts = nn_rd_i64(&r);
	uint64_t ct_len = nn_rd_uvarint(&r);
	if (!r.err && ct_len < NN_SBOX_TAG_LEN)
		nn_rd_fail(&r, NN_ECORRUPT);
	if (!r.err && ct_len > NN_SBOX_MAX_CT)
		nn_rd_fail(&r, NN_ETOOBIG);
	const uint8_t *ct = nn_rd_bytes(&r, r.err ? 0 : (size_t)ct_len);
	const uint8_t *sig = nn_rd_bytes(&r, NN_ED_SIG_LEN);
	int rc = nn_rd_end(&r);
	if (rc)
		return rc;
	v->eph_pub = eph;
	v->sender_ed_pub = sender;
	v->ts = ts;
	v->ct = ct;
	v->ct_len = (size_t)ct_len;
	v->sig = sig;
	return 0;
}

int nn_sbox_open(uint8_t *out, size_t cap, size_t *pt_len, nn_sbox_meta *meta,
		 const nn_identity *self, const uint8_t *box, size_t len, const uint8_t *aad,
		 size_t aad_len, nn_time now, nn_time max_age)
{
	uint8_t shared[32], key[NN_SBOX_KEY_LEN], nonce[NN_SBOX_NONCE_LEN];
	nn_sbox_view v;
	if (pt_len)
		*pt_len = 0;
	if (!out || !pt_len || !self || (!box && len) || (!aad && aad_len) || max_age < 0)
		return NN_EINVAL;
	if (overlaps(out, cap, box, len) || overlaps(out, cap, aad, aad_len))
		return NN_EINVAL;
	int rc = nn_sbox_parse(&v, box, len);
	if (rc)
		return rc;
	size_t need = nn_sbox_open_cap(v.ct_len);
	if (cap < need)
		return NN_ENOSPC;

	/* 2. the signature, against our own x_pub */
	sigmsg_head(out, v.eph_pub, self->x_pub, v.ts);
	memcpy(out + NN_SBOX_SIGMSG_FIXED, v.ct, v.ct_len);
	rc = nn_identity_verify(v.sender_ed_pub, v.sig, out, need);
	memset(out, 0, need);
	if (rc)
		return rc;
	/* 3. freshness */
	if (!nn_sbox_fresh(v.ts, now, max_age))
		return NN_ESTALE;
	/* 4. ECDH (all-zero refused) and decryption */
	rc = nn_sbox_x25519(shared, self->x_sk, v.eph_pub);
	if (rc == 0)
		rc = nn_sbox_kdf(key, nonce, shared);
	if (rc == 0)
		rc = nn_sbox_aead_decrypt(out, v.ct, v.ct_len, aad, aad_len, nonce, key);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	sodium_memzero(nonce, sizeof nonce);
	if (rc)
		return rc;
	/* 5. the sender */
	*pt_len = v.ct_len - NN_SBOX_TAG_LEN;
	if (meta) {
		memcpy(meta->sender_ed_pub, v.sender_ed_pub, NN_ED_PUB_LEN);
		nn_identity_node_id(&meta->sender, v.sender_ed_pub);
		meta->ts = v.ts;
		memcpy(meta->eph_pub, v.eph_pub, 32);
	}
	return 0;
}

int nn_sbox_open_once(nn_replay *cache, uint8_t *out, size_t cap, size_t *pt_len,
		      nn_sbox_meta *meta, const nn_identity *self, const uint8_t *box, size_t len,
		      const uint8_t *aad, size_t aad_len, nn_time now, nn_time max_age)
{
	nn_sbox_meta m;
	if (!cache) {
		if (pt_len)
			*pt_len = 0;
		return NN_EINVAL;
	}
	int rc = nn_sbox_open(out, cap, pt_len, &m, self, box, len, aad, aad_len, now, max_age);
	if (rc)
		return rc;
	rc = nn_replay_check(cache, m.eph_pub, sizeof m.eph_pub, nn_replay_expiry(m.ts, max_age),
			     now);
	if (rc) {
		sodium_memzero(out, *pt_len);
		*pt_len = 0;
		return rc;
	}
	if (meta)
		*meta = m;
	return 0;
}
