/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) for the service
 * protocol's handshake: the client and the service each prove they hold
 * the endpoint file's secret without sending it (docs/fh-protocol.md, 2).
 *
 * Plain C without OS calls: built into the service and the CLI, and into
 * fhsvcctl.dll and fhcfg.dll with mingw-w64.  Speed does not matter here
 * (a few blocks per connection), clarity does.
 */
#include <stdint.h>
#include <string.h>

#include "fh_hmac.h"

static const uint32_t k[64] =
{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[64], a, b, c, d, e, f, g, hh;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (; i < 64; i++)
    {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
    for (i = 0; i < 64; i++)
    {
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void fh_sha256_init(struct fh_sha256 *s)
{
    static const uint32_t iv[8] =
    {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(s->h, iv, sizeof(iv));
    s->length = 0;
    s->used = 0;
}

void fh_sha256_update(struct fh_sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;

    s->length += len;
    while (len)
    {
        size_t take = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        len -= take;
        if (s->used == 64)
        {
            compress(s->h, s->block);
            s->used = 0;
        }
    }
}

void fh_sha256_final(struct fh_sha256 *s, uint8_t digest[FH_SHA256_SIZE])
{
    uint64_t bits = s->length * 8;
    uint8_t pad = 0x80, zero = 0, length[8];

    fh_sha256_update(s, &pad, 1);
    while (s->used != 56) fh_sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) length[i] = (uint8_t)(bits >> (56 - 8 * i));
    fh_sha256_update(s, length, 8);
    for (int i = 0; i < 8; i++)
    {
        digest[4 * i] = (uint8_t)(s->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)s->h[i];
    }
}

void fh_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t mac[FH_SHA256_SIZE])
{
    uint8_t block[64] = { 0 }, pad[64], inner[FH_SHA256_SIZE];
    struct fh_sha256 s;

    if (key_len > 64)
    {
        fh_sha256_init(&s);
        fh_sha256_update(&s, key, key_len);
        fh_sha256_final(&s, block);
    }
    else memcpy(block, key, key_len);

    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    fh_sha256_init(&s);
    fh_sha256_update(&s, pad, 64);
    fh_sha256_update(&s, msg, msg_len);
    fh_sha256_final(&s, inner);

    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    fh_sha256_init(&s);
    fh_sha256_update(&s, pad, 64);
    fh_sha256_update(&s, inner, sizeof(inner));
    fh_sha256_final(&s, mac);
}

/* The handshake's proof: lowercase hex of HMAC-SHA-256(secret, role ' ' client_nonce ' ' server_nonce). */
void fh_handshake_proof(const char *secret, char role, const char *client_nonce, const char *server_nonce,
                        char hex[2 * FH_SHA256_SIZE + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t mac[FH_SHA256_SIZE];
    char msg[2 + 2 * (FH_NONCE_CHARS + 1) + 1];
    size_t cn = strlen(client_nonce), sn = strlen(server_nonce), n = 0;

    if (cn > FH_NONCE_CHARS) cn = FH_NONCE_CHARS;
    if (sn > FH_NONCE_CHARS) sn = FH_NONCE_CHARS;
    msg[n++] = role;
    msg[n++] = ' ';
    memcpy(msg + n, client_nonce, cn); n += cn;
    msg[n++] = ' ';
    memcpy(msg + n, server_nonce, sn); n += sn;
    fh_hmac_sha256(secret, strlen(secret), msg, n, mac);
    for (int i = 0; i < FH_SHA256_SIZE; i++)
    {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 15];
    }
    hex[2 * FH_SHA256_SIZE] = 0;
}

/* Compares two proofs in time that does not depend on where they differ. */
int fh_proof_equal(const char *a, const char *b)
{
    unsigned char diff = 0;
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb) return 0;
    for (size_t i = 0; i < la; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return !diff;
}

int fh_is_nonce(const char *text)
{
    return strlen(text) == FH_NONCE_CHARS && strspn(text, "0123456789abcdef") == FH_NONCE_CHARS;
}
