/*
 * SHA-256 and HMAC-SHA-256 for the service protocol's handshake
 * (libs/fh/fh_hmac.c); no OS calls, shared by the service, the CLI and the
 * PE DLLs.
 */
#ifndef FH_HMAC_H
#define FH_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define FH_SHA256_SIZE  32
#define FH_NONCE_CHARS  32      /* a nonce: 32 lowercase hex digits (128 random bits) */

struct fh_sha256
{
    uint32_t h[8];
    uint64_t length;            /* bytes hashed so far */
    uint8_t block[64];
    size_t used;
};

void fh_sha256_init(struct fh_sha256 *s);
void fh_sha256_update(struct fh_sha256 *s, const void *data, size_t len);
void fh_sha256_final(struct fh_sha256 *s, uint8_t digest[FH_SHA256_SIZE]);
void fh_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t mac[FH_SHA256_SIZE]);
void fh_handshake_proof(const char *secret, char role, const char *client_nonce, const char *server_nonce,
                        char hex[2 * FH_SHA256_SIZE + 1]);
int fh_proof_equal(const char *a, const char *b);
/* Is text a nonce: exactly FH_NONCE_CHARS lowercase hex digits? */
int fh_is_nonce(const char *text);

#endif
