/* wolf.h — the one place that includes wolfSSL: options.h first, then the headers we use, and a
 * build-time check that this wolfSSL has QUIC. Private to transport/quic.
 */
#ifndef NN_QUIC_WOLF_H
#define NN_QUIC_WOLF_H

#include <wolfssl/options.h>

#ifndef WOLFSSL_QUIC
#error "wolfSSL was built without QUIC (--enable-quic); transport/quic needs it"
#endif
#if !defined(WOLFSSL_CUSTOM_OID) || !defined(HAVE_OID_ENCODING)
#error "wolfSSL needs -DWOLFSSL_CUSTOM_OID -DHAVE_OID_ENCODING for the identity extension"
#endif

#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/quic.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#endif
