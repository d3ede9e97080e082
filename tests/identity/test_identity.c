/* test_identity.c — known answers (RFC 5869 HKDF, RFC 8032 Ed25519, BLAKE2b, the golden
 * NodeID) and the seed file's strictness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/identity.h"
#include "tests/support/testutil.h"

#define GOLDEN_ID "45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5"
#define GOLDEN_ED "f921dfe6a43d8e34b0019cd7cef3f8605052b37db5d792583294375d996c0862"
#define GOLDEN_X "26d74bba073a11ce1fbd8089f82b2daeb3a010c4ba78d31af5172b09a3fc2a31"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(nn_test_unhex(out, n, hex), n);
}

static void golden_seed(uint8_t seed[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
}

static void test_golden_node_id(void **state)
{
	uint8_t seed[32], ed[32], x[32];
	golden_seed(seed);
	nn_identity id;
	assert_int_equal(nn_identity_from_seed(&id, seed), 0);
	char hex[65];
	assert_string_equal(nn_kad_id_to_hex(hex, &id.id), GOLDEN_ID);
	unhex(ed, 32, GOLDEN_ED);
	unhex(x, 32, GOLDEN_X);
	assert_memory_equal(id.ed_pub, ed, 32);
	assert_memory_equal(id.x_pub, x, 32);
	assert_memory_equal(id.seed, seed, 32);

	/* the fast path used by PoW minting agrees */
	nn_id fast;
	uint8_t fast_ed[32];
	assert_int_equal(nn_identity_id_from_seed(&fast, fast_ed, seed), 0);
	assert_true(nn_kad_id_eq(&fast, &id.id));
	assert_memory_equal(fast_ed, ed, 32);

	nn_identity_wipe(&id);
	uint8_t zero[sizeof id];
	memset(zero, 0, sizeof zero);
	assert_memory_equal(&id, zero, sizeof id);
}

static void test_hkdf_rfc5869(void **state)
{
	uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], want_prk[32], want_okm[42];
	memset(ikm, 0x0b, sizeof ikm);
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	/* Test case 1 */
	assert_int_equal(nn_hkdf_sha256_extract(prk, salt, sizeof salt, ikm, sizeof ikm), 0);
	unhex(want_prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(nn_hkdf_sha256_expand(okm, 42, prk, info, sizeof info), 0);
	unhex(want_okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			    "34007208d5b887185865");
	assert_memory_equal(okm, want_okm, 42);
	/* Test case 3: empty salt and info (our identity derivation uses an empty salt) */
	assert_int_equal(nn_hkdf_sha256_extract(prk, NULL, 0, ikm, sizeof ikm), 0);
	unhex(want_prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(nn_hkdf_sha256_expand(okm, 42, prk, NULL, 0), 0);
	unhex(want_okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
			    "9d201395faa4b61a96c8");
	assert_memory_equal(okm, want_okm, 42);
	/* limits */
	static uint8_t big[255 * 32 + 1];
	assert_int_equal(nn_hkdf_sha256_expand(big, sizeof big, prk, NULL, 0), NN_EINVAL);
	assert_int_equal(nn_hkdf_sha256_expand(big, sizeof big - 1, prk, NULL, 0), 0);
}

static const struct {
	const char *sk, *pk, *msg, *sig;
} rfc8032[] = {
	{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	 "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	 "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	 "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static void test_ed25519_rfc8032(void **state)
{
	for (size_t i = 0; i < sizeof rfc8032 / sizeof rfc8032[0]; i++) {
		uint8_t sk[32], pk[32], msg[8], sig[64], got[64];
		size_t mlen = strlen(rfc8032[i].msg) / 2;
		unhex(sk, 32, rfc8032[i].sk);
		unhex(pk, 32, rfc8032[i].pk);
		if (mlen)
			unhex(msg, mlen, rfc8032[i].msg);
		unhex(sig, 64, rfc8032[i].sig);
		nn_identity id;
		memset(&id, 0, sizeof id);
		assert_int_equal(crypto_sign_ed25519_seed_keypair(id.ed_pub, id.ed_sk, sk), 0);
		assert_memory_equal(id.ed_pub, pk, 32);
		assert_int_equal(nn_identity_sign(&id, got, msg, mlen), 0);
		assert_memory_equal(got, sig, 64);
		assert_int_equal(nn_identity_verify(pk, sig, msg, mlen), 0);
		/* any flipped bit in signature or message fails */
		for (int b = 0; b < 64 * 8; b += 37) {
			got[b / 8] ^= (uint8_t)(1 << (b % 8));
			assert_int_equal(nn_identity_verify(pk, got, msg, mlen), NN_EBADSIG);
			got[b / 8] ^= (uint8_t)(1 << (b % 8));
		}
		if (mlen) {
			msg[0] ^= 1;
			assert_int_equal(nn_identity_verify(pk, sig, msg, mlen), NN_EBADSIG);
		}
	}
}

static void test_blake2b256(void **state)
{
	uint8_t out[32], want[32];
	nn_blake2b256(out, (const uint8_t *)"", 0);
	unhex(want, 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
	assert_memory_equal(out, want, 32);
	nn_blake2b256(out, (const uint8_t *)"abc", 3);
	unhex(want, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	assert_memory_equal(out, want, 32);
}

static void test_sign_verify_identity(void **state)
{
	uint8_t seed[32], sig[64];
	golden_seed(seed);
	nn_identity id;
	assert_int_equal(nn_identity_from_seed(&id, seed), 0);
	const uint8_t msg[] = "nodenet";
	assert_int_equal(nn_identity_sign(&id, sig, msg, sizeof msg), 0);
	assert_int_equal(nn_identity_verify(id.ed_pub, sig, msg, sizeof msg), 0);
	seed[0] ^= 1;
	nn_identity other;
	assert_int_equal(nn_identity_from_seed(&other, seed), 0);
	assert_false(nn_kad_id_eq(&other.id, &id.id));
	assert_int_equal(nn_identity_verify(other.ed_pub, sig, msg, sizeof msg), NN_EBADSIG);
	assert_int_equal(nn_identity_from_seed(NULL, seed), NN_EINVAL);
}

/* ---- seed file ---- */
static char dir[64];

static int mkdir_tmp(void **state)
{
	strcpy(dir, "/tmp/nn-seedtest-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static void test_seed_file(void **state)
{
	char path[128];
	uint8_t seed[32], got[32], other[32];
	golden_seed(seed);
	memset(other, 0x77, sizeof other);
	snprintf(path, sizeof path, "%s/nodenet.seed", dir);

	assert_int_equal(nn_identity_seed_load(path, got), NN_ENOENT);
	assert_int_equal(nn_identity_seed_save(path, seed), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(nn_identity_seed_load(path, got), 0);
	assert_memory_equal(got, seed, 32);

	/* never overwritten */
	assert_int_equal(nn_identity_seed_save(path, other), NN_EEXIST);
	assert_int_equal(nn_identity_seed_load(path, got), 0);
	assert_memory_equal(got, seed, 32);

	/* short, long, empty: corrupt, and left alone */
	const size_t bad_sizes[] = {0, 1, 31, 33, 64};
	for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
		uint8_t junk[64];
		memset(junk, 0x55, sizeof junk);
		write_file(path, junk, bad_sizes[i]);
		assert_int_equal(nn_identity_seed_load(path, got), NN_ECORRUPT);
		assert_int_equal(nn_identity_seed_save(path, other), NN_EEXIST);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal((size_t)st.st_size, bad_sizes[i]);
	}
	/* a directory and a symlink are not seed files */
	assert_int_equal(nn_identity_seed_load(dir, got), NN_ECORRUPT);
	char link_path[160];
	snprintf(link_path, sizeof link_path, "%s/link.seed", dir);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(nn_identity_seed_load(link_path, got), NN_ECORRUPT);
	/* missing directory */
	char nodir[160];
	snprintf(nodir, sizeof nodir, "%s/nope/nodenet.seed", dir);
	assert_int_equal(nn_identity_seed_save(nodir, seed), NN_ENOENT);
	/* no temporary files left behind */
	char cmd[200];
	snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dir);
	assert_int_not_equal(system(cmd), 0);
}

/* A seed file open to group or others is refused (like ssh with a private key) and nothing is
 * read from it; 0600 and stricter load. */
static void test_seed_file_permissions(void **state)
{
	char path[128];
	uint8_t seed[32], got[32];
	golden_seed(seed);
	snprintf(path, sizeof path, "%s/perm.seed", dir);
	unlink(path);
	assert_int_equal(nn_identity_seed_save(path, seed), 0);
	const mode_t open_modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601, 0666, 0777, 0660};
	for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
		assert_int_equal(chmod(path, open_modes[i]), 0);
		memset(got, 0x5a, sizeof got);
		if (nn_identity_seed_load(path, got) != NN_EINSECURE)
			fail_msg("mode %04o was accepted", (unsigned)open_modes[i]);
		for (size_t k = 0; k < sizeof got; k++)
			assert_int_equal(got[k], 0x5a); /* nothing read */
	}
	const mode_t closed_modes[] = {0600, 0400, 0700, 0500};
	for (size_t i = 0; i < sizeof closed_modes / sizeof closed_modes[0]; i++) {
		assert_int_equal(chmod(path, closed_modes[i]), 0);
		assert_int_equal(nn_identity_seed_load(path, got), 0);
		assert_memory_equal(got, seed, 32);
	}
	/* the saved file is 0600 whatever the umask */
	unlink(path);
	mode_t old = umask(0);
	assert_int_equal(nn_identity_seed_save(path, seed), 0);
	umask(old);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(nn_identity_seed_load(path, got), 0);
	unlink(path);
	assert_string_equal(nn_errname(NN_EINSECURE), "EINSECURE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_node_id),
		cmocka_unit_test_setup_teardown(test_seed_file_permissions, mkdir_tmp, rm_tmp),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_ed25519_rfc8032),
		cmocka_unit_test(test_blake2b256),
		cmocka_unit_test(test_sign_verify_identity),
		cmocka_unit_test_setup_teardown(test_seed_file, mkdir_tmp, rm_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
