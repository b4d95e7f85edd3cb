/*
 * SHA-256 and HMAC-SHA-256 of the service handshake (libs/fh/fh_hmac.c)
 * against the published vectors: FIPS 180-4's examples (via NIST's
 * "SHA256.pdf") and RFC 4231's HMAC test cases 1, 2 and 6.
 */
#include "testutil.h"
#include "../libs/fh/fh_hmac.c"

static void hex(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", bytes[i]);
}

static void check_sha256(const void *data, size_t len, size_t chunk, const char *expect)
{
    struct fh_sha256 s;
    uint8_t digest[FH_SHA256_SIZE];
    char text[65];
    const uint8_t *p = data;

    fh_sha256_init(&s);
    for (size_t done = 0; done < len; done += chunk)
        fh_sha256_update(&s, p + done, len - done < chunk ? len - done : chunk);
    fh_sha256_final(&s, digest);
    hex(digest, sizeof(digest), text);
    assert_string_equal(text, expect);
}

static void test_sha256(void **state)
{
    static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char *million = malloc(1000000);

    check_sha256("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha256("abc", 3, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha256(two_blocks, strlen(two_blocks), 64, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_sha256(two_blocks, strlen(two_blocks), 1, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    memset(million, 'a', 1000000);
    check_sha256(million, 1000000, 4099, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static void check_hmac(const void *key, size_t key_len, const char *msg, const char *expect)
{
    uint8_t mac[FH_SHA256_SIZE];
    char text[65];
    fh_hmac_sha256(key, key_len, msg, strlen(msg), mac);
    hex(mac, sizeof(mac), text);
    assert_string_equal(text, expect);
}

static void test_hmac_rfc4231(void **state)
{
    uint8_t key[131];

    memset(key, 0x0b, 20);
    check_hmac(key, 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac("Jefe", 4, "what do ya want for nothing?",
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, 131);
    check_hmac(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* The proof is HMAC(secret, "<role> <client nonce> <server nonce>"): the
 * same as computing it by hand, and different per role and per nonce. */
static void test_handshake_proof(void **state)
{
    static const char secret[] = "0123456789abcdef0123456789abcdef";
    static const char cn[] = "00112233445566778899aabbccddeeff", sn[] = "ffeeddccbbaa99887766554433221100";
    char proof[65], again[65], by_hand[65];
    uint8_t mac[FH_SHA256_SIZE];
    char msg[80];

    fh_handshake_proof(secret, 'S', cn, sn, proof);
    snprintf(msg, sizeof(msg), "S %s %s", cn, sn);
    fh_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
    hex(mac, sizeof(mac), by_hand);
    assert_string_equal(proof, by_hand);
    fh_handshake_proof(secret, 'C', cn, sn, again);
    assert_false(fh_proof_equal(proof, again));
    fh_handshake_proof(secret, 'S', sn, cn, again);
    assert_false(fh_proof_equal(proof, again));
    fh_handshake_proof(secret, 'S', cn, sn, again);
    assert_true(fh_proof_equal(proof, again));
    assert_false(fh_proof_equal(proof, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_handshake_proof),
    };
    return cmocka_run_group_tests_name("fh_hmac", tests, NULL, NULL);
}
