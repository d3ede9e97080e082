/* mint.c — the cancellable multi-threaded PoW minter. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pow/pow.h"

#define MAX_THREADS 256

struct mint {
	const nn_pow_opts *o;
	pthread_mutex_t lock; /* guards the rng, found, seed */
	pthread_cond_t done_cv;
	atomic_int stop;
	atomic_uint_fast64_t tries;
	unsigned running;
	bool found;
	int err;
	uint8_t seed[NN_SEED_LEN];
};

static void draw(struct mint *m, uint8_t *buf, size_t len)
{
	if (m->o->rng) {
		pthread_mutex_lock(&m->lock);
		m->o->rng(m->o->rng_user, buf, len);
		pthread_mutex_unlock(&m->lock);
	} else {
		randombytes_buf(buf, len);
	}
}

static void *worker(void *arg)
{
	struct mint *m = arg;
	uint8_t seed[NN_SEED_LEN];
	nn_id id;
	while (!atomic_load_explicit(&m->stop, memory_order_relaxed)) {
		draw(m, seed, sizeof seed);
		if (nn_identity_id_from_seed(&id, NULL, seed) != 0) {
			pthread_mutex_lock(&m->lock);
			m->err = NN_ECRYPTO;
			atomic_store(&m->stop, 1);
			pthread_mutex_unlock(&m->lock);
			break;
		}
		atomic_fetch_add_explicit(&m->tries, 1, memory_order_relaxed);
		if (nn_pow_ok(&id, m->o->difficulty)) {
			pthread_mutex_lock(&m->lock);
			if (!m->found) {
				m->found = true;
				memcpy(m->seed, seed, sizeof seed);
			}
			atomic_store(&m->stop, 1);
			pthread_mutex_unlock(&m->lock);
			break;
		}
	}
	sodium_memzero(seed, sizeof seed);
	pthread_mutex_lock(&m->lock);
	m->running--;
	pthread_cond_signal(&m->done_cv);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int nn_pow_mint(const nn_pow_opts *o, uint8_t seed[NN_SEED_LEN], uint64_t *tries)
{
	if (!o || !seed || o->difficulty < 0 || o->difficulty > NN_POW_MAX_DIFFICULTY)
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	unsigned n = o->threads;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (unsigned)c : 1;
	}
	if (n > MAX_THREADS)
		n = MAX_THREADS;

	struct mint m;
	memset(&m, 0, sizeof m);
	m.o = o;
	atomic_init(&m.stop, 0);
	atomic_init(&m.tries, 0);
	pthread_mutex_init(&m.lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m.done_cv, &ca);
	pthread_condattr_destroy(&ca);

	pthread_t tids[MAX_THREADS];
	unsigned started = 0;
	for (; started < n; started++) {
		pthread_mutex_lock(&m.lock);
		m.running++;
		pthread_mutex_unlock(&m.lock);
		if (pthread_create(&tids[started], NULL, worker, &m) != 0) {
			pthread_mutex_lock(&m.lock);
			m.running--;
			pthread_mutex_unlock(&m.lock);
			break;
		}
	}
	if (started == 0)
		m.err = NN_EINTERNAL;

	double expected = ldexp(1.0, o->difficulty);
	unsigned every = o->progress_ms ? o->progress_ms : 100;
	bool canceled = false;
	pthread_mutex_lock(&m.lock);
	while (m.running > 0) {
		struct timespec ts;
		deadline_in(&ts, every);
		int w = pthread_cond_timedwait(&m.done_cv, &m.lock, &ts);
		if (atomic_load(&m.stop))
			continue; /* wait for the others to wind down */
		if (w == ETIMEDOUT || w == 0) {
			bool cancel = o->cancel && atomic_load(o->cancel);
			if (!cancel && o->progress) {
				pthread_mutex_unlock(&m.lock);
				cancel = o->progress(o->user, atomic_load(&m.tries), expected) != 0;
				pthread_mutex_lock(&m.lock);
			}
			if (cancel) {
				canceled = true;
				atomic_store(&m.stop, 1);
			}
		}
	}
	pthread_mutex_unlock(&m.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);

	int rc = m.err;
	if (!rc && m.found) {
		memcpy(seed, m.seed, NN_SEED_LEN);
	} else if (!rc) {
		rc = canceled ? NN_ECANCELED : NN_EINTERNAL;
	}
	if (tries)
		*tries = atomic_load(&m.tries);
	if (m.found && o->progress && rc == 0)
		(void)o->progress(o->user, atomic_load(&m.tries), expected);
	sodium_memzero(m.seed, sizeof m.seed);
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.done_cv);
	return rc;
}
