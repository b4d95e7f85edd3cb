/*
 * fh_parse_endpoint (client.c) against docs/fh-protocol.md section 1: the
 * endpoint file is exactly "<port> <secret>\n", port 1..65535 in decimal
 * without leading zeros, secret 32 lowercase hex digits.  Anything else must
 * be refused: a port that does not fit would be truncated into another
 * port, and the DLL would hand the secret to whoever listens there.
 */
#include <stdio.h>
#include <string.h>
#include "client.h"

BOOL fh_parse_endpoint(const char *data, size_t len, unsigned short *port, char secret[33]);

static int failures, checks;

static void check(const char *data, BOOL valid, unsigned short want_port)
{
    unsigned short port = 0;
    char secret[33] = "";
    BOOL ret = fh_parse_endpoint(data, strlen(data), &port, secret);

    checks++;
    if (ret != valid || (valid && port != want_port))
    {
        printf("endpoint.c: Test failed: \"%s\": got %d port %u, expected %d port %u\n",
               data, ret, port, valid, want_port);
        failures++;
    }
}

int main(void)
{
    static const char hex[] = "0123456789abcdef0123456789abcdef";
    char line[128];

    snprintf(line, sizeof(line), "12345 %s\n", hex); check(line, TRUE, 12345);
    snprintf(line, sizeof(line), "1 %s\n", hex); check(line, TRUE, 1);
    snprintf(line, sizeof(line), "65535 %s\n", hex); check(line, TRUE, 65535);
    snprintf(line, sizeof(line), "65536 %s\n", hex); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "70000 %s\n", hex); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "4294971760 %s\n", hex); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "0 %s\n", hex); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "01234 %s\n", hex); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "-1 %s\n", hex); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "12345 %s", hex); check(line, FALSE, 0);                  /* no newline */
    snprintf(line, sizeof(line), "12345 %s\nx", hex); check(line, FALSE, 0);               /* more after it */
    snprintf(line, sizeof(line), "12345 %.31s\n", hex); check(line, FALSE, 0);             /* 31 digits */
    snprintf(line, sizeof(line), "12345 %sa\n", hex); check(line, FALSE, 0);               /* 33 digits */
    snprintf(line, sizeof(line), "12345 0123456789ABCDEF0123456789abcdef\n"); check(line, FALSE, 0);
    snprintf(line, sizeof(line), "12345  %s\n", hex); check(line, FALSE, 0);
    check("", FALSE, 0);
    printf("endpoint: %d tests executed (0 marked as todo, 0 as flaky, %d failures), 0 skipped.\n", checks, failures);
    return failures;
}
