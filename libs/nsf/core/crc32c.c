/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
 * change-info format: slice-by-8 tables built once, no OS calls.  Same
 * convention as iSCSI/ext4: crc32c("123456789") == 0xE3069283 with the usual
 * pre- and post-inversion, which this function does (pass 0 to start).
 */
#include <stddef.h>
#include <stdint.h>
#include "../nsf.h"

static uint32_t crc_table[8][256];
static int crc_table_ready;

static void build_table(void)
{
    uint32_t i, j, crc;

    for (i = 0; i < 256; i++)
    {
        crc = i;
        for (j = 0; j < 8; j++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
        crc_table[0][i] = crc;
    }
    for (i = 0; i < 256; i++)
        for (j = 1; j < 8; j++)
            crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^ crc_table[0][crc_table[j - 1][i] & 0xff];
    __atomic_store_n(&crc_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t nsf_crc32c(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;

    /* building twice from two threads writes the same values: harmless */
    if (!__atomic_load_n(&crc_table_ready, __ATOMIC_ACQUIRE)) build_table();
    crc = ~crc;
    while (size >= 8)
    {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
              crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
              crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}
