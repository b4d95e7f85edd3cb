/*
 * Self-relative security descriptors: a descriptor laid out by hand from
 * [MS-DTYP] 2.4.2 (SID), 2.4.4.2 (ACCESS_ALLOWED_ACE), 2.4.5 (ACL) and
 * 2.4.6 (SECURITY_DESCRIPTOR) for uid 1000, gid 100, mode 0640; the POSIX
 * mapping both ways; and the malformed descriptors validation must refuse.
 */
#include "testutil.h"
#include "winbackup/metadata.h"

#define UNIX_USER(rid)  0x01, 0x02, 0, 0, 0, 0, 0, 22, 0x01, 0, 0, 0, (rid) & 0xff, ((rid) >> 8) & 0xff, 0, 0
#define UNIX_GROUP(rid) 0x01, 0x02, 0, 0, 0, 0, 0, 22, 0x02, 0, 0, 0, (rid) & 0xff, ((rid) >> 8) & 0xff, 0, 0

static const uint8_t sd_0640[108] =
{
    /* Revision 1, Sbz1, Control = SE_SELF_RELATIVE | SE_DACL_PRESENT (0x8004) */
    0x01, 0x00, 0x04, 0x80,
    0x14, 0x00, 0x00, 0x00,     /* OffsetOwner 20 */
    0x24, 0x00, 0x00, 0x00,     /* OffsetGroup 36 */
    0x00, 0x00, 0x00, 0x00,     /* OffsetSacl: none */
    0x34, 0x00, 0x00, 0x00,     /* OffsetDacl 52 */
    UNIX_USER(1000),            /* S-1-22-1-1000 */
    UNIX_GROUP(100),            /* S-1-22-2-100 */
    /* ACL: revision 2, size 56, 2 ACEs */
    0x02, 0x00, 0x38, 0x00, 0x02, 0x00, 0x00, 0x00,
    /* ACCESS_ALLOWED, size 24: rw- = 0x120089 | 0x120116, + READ_CONTROL|WRITE_DAC|WRITE_OWNER */
    0x00, 0x00, 0x18, 0x00, 0x9f, 0x01, 0x1e, 0x00, UNIX_USER(1000),
    /* ACCESS_ALLOWED, size 24: r-- = FILE_GENERIC_READ */
    0x00, 0x00, 0x18, 0x00, 0x89, 0x00, 0x12, 0x00, UNIX_GROUP(100),
    /* other ---: no ACE */
};

static uint32_t ace_mask(const uint8_t *sd, unsigned int index)
{
    const uint8_t *p = sd + (sd[16] | (sd[17] << 8)) + 8;
    while (index--) p += p[2] | (p[3] << 8);
    return p[4] | (p[5] << 8) | (p[6] << 16) | ((uint32_t)p[7] << 24);
}

static void test_synthesize_vector(void **state)
{
    uint8_t *sd;
    size_t size;
    uint32_t uid, gid, mode;

    assert_int_equal(wb_sd_from_posix(1000, 100, 0640, 0, NULL, 0, &sd, &size), WB_OK);
    assert_int_equal(size, sizeof(sd_0640));
    assert_memory_equal(sd, sd_0640, sizeof(sd_0640));
    free(sd);

    assert_int_equal(wb_sd_validate(sd_0640, sizeof(sd_0640)), WB_OK);
    assert_int_equal(wb_sd_to_posix(sd_0640, sizeof(sd_0640), 0, &uid, &gid, &mode), WB_OK);
    assert_int_equal(uid, 1000);
    assert_int_equal(gid, 100);
    assert_int_equal(mode, 0640);
    /* the same DACL read as a directory's lacks FILE_DELETE_CHILD on w */
    assert_int_equal(wb_sd_to_posix(sd_0640, sizeof(sd_0640), 1, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
}

static void test_directory_rights(void **state)
{
    static const uint8_t everyone[12] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    uint8_t *sd;
    size_t size;
    uint32_t uid, gid, mode;

    assert_int_equal(wb_sd_from_posix(0, 0, 0755, 1, NULL, 0, &sd, &size), WB_OK);
    assert_int_equal(wb_sd_validate(sd, size), WB_OK);
    /* rwx on a directory + owner rights = FILE_ALL_ACCESS (0x1f01ff) without DELETE */
    assert_int_equal(ace_mask(sd, 0), 0x1e01ff);
    assert_int_equal(ace_mask(sd, 1), 0x1200a9);
    assert_int_equal(ace_mask(sd, 2), 0x1200a9);
    assert_int_equal(size, 20 + 16 + 16 + 8 + 24 + 24 + 20);
    assert_memory_equal(sd + size - 12, everyone, 12);
    assert_int_equal(wb_sd_to_posix(sd, size, 1, &uid, &gid, &mode), WB_OK);
    assert_int_equal(mode, 0755);
    free(sd);

    /* setuid/sticky bits have no place in a DACL */
    assert_int_equal(wb_sd_from_posix(5, 6, 01777, 1, NULL, 0, &sd, &size), WB_OK);
    assert_int_equal(wb_sd_to_posix(sd, size, 1, &uid, &gid, &mode), WB_OK);
    assert_int_equal(mode, 0777);
    free(sd);
}

static void test_every_mode_round_trips(void **state)
{
    uint32_t mode, uid, gid, got;
    int is_dir;

    for (is_dir = 0; is_dir < 2; is_dir++)
        for (mode = 0; mode < 01000; mode++)
        {
            uint8_t *sd;
            size_t size;
            assert_int_equal(wb_sd_from_posix(4000000000u, 12345, mode, is_dir, NULL, 0, &sd, &size), WB_OK);
            assert_int_equal(wb_sd_validate(sd, size), WB_OK);
            assert_int_equal(wb_sd_to_posix(sd, size, is_dir, &uid, &gid, &got), WB_OK);
            assert_int_equal(uid, 4000000000u);
            assert_int_equal(gid, 12345);
            assert_int_equal(got, mode);
            free(sd);
        }
}

static void test_posix_acl(void **state)
{
    /* system.posix_acl_access: version 2; user::rw- user:1001:rwx group::r-- mask::r-x other::--- */
    static const uint8_t xattr[] =
    {
        0x02, 0, 0, 0,
        0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
        0x02, 0, 7, 0, 0xe9, 0x03, 0, 0,
        0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
        0x10, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
        0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
    };
    static const uint8_t named_user[16] = { UNIX_USER(1001) };
    struct wb_posix_acl_entry *acl;
    size_t count, size;
    uint8_t *sd, bad[sizeof(xattr)];
    uint32_t uid, gid, mode;

    assert_int_equal(wb_posix_acl_parse(xattr, sizeof(xattr), &acl, &count), WB_OK);
    assert_int_equal(count, 5);
    assert_int_equal(acl[1].tag, WB_ACL_USER);
    assert_int_equal(acl[1].id, 1001);
    assert_int_equal(acl[1].perms, 7);

    assert_int_equal(wb_sd_from_posix(1000, 100, 0650, 0, acl, count, &sd, &size), WB_OK);
    assert_int_equal(wb_sd_validate(sd, size), WB_OK);
    assert_int_equal(sd[52 + 4], 3);                    /* owner, named user, group; no Everyone */
    assert_int_equal(ace_mask(sd, 0), 0x1e019f);        /* rw- + owner rights */
    assert_int_equal(ace_mask(sd, 1), 0x1200a9);        /* rwx masked to r-x */
    assert_memory_equal(sd + 52 + 8 + 24 + 8, named_user, 16);
    assert_int_equal(ace_mask(sd, 2), 0x120089);        /* r-- */
    /* named entries cannot come back as a mode */
    assert_int_equal(wb_sd_to_posix(sd, size, 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    free(sd);
    free(acl);

    memcpy(bad, xattr, sizeof(xattr));
    bad[0] = 1;
    assert_int_equal(wb_posix_acl_parse(bad, sizeof(bad), &acl, &count), WB_ERROR_INVALID_DATA);
    assert_int_equal(wb_posix_acl_parse(xattr, sizeof(xattr) - 1, &acl, &count), WB_ERROR_INVALID_DATA);
    bad[0] = 2;
    bad[4] = 0x40;
    assert_int_equal(wb_posix_acl_parse(bad, sizeof(bad), &acl, &count), WB_ERROR_INVALID_DATA);
}

static void test_validate_malformed(void **state)
{
    uint8_t sd[sizeof(sd_0640)];
    uint32_t uid, gid, mode;

#define RESET() memcpy(sd, sd_0640, sizeof(sd))
    assert_int_equal(wb_sd_validate(NULL, 0), WB_ERROR_INVALID_SECURITY_DESCR);
    assert_int_equal(wb_sd_validate(sd_0640, 19), WB_ERROR_INVALID_SECURITY_DESCR);
    /* DACL runs past the end */
    assert_int_equal(wb_sd_validate(sd_0640, sizeof(sd_0640) - 1), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[0] = 2;                      /* revision */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[3] = 0x00;                   /* not self-relative */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[4] = 0x6c;                   /* owner offset = size */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[4] = 0x05;                   /* owner inside the header */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    /* owner inside the header where the (unused) SACL offset field reads as
     * a well-formed SID: 01 00 00 00 34 00 00 00 */
    RESET(); sd[4] = 12; sd[12] = 1; sd[13] = 0;
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[21] = 16;                    /* owner SID with 16 sub-authorities */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[36] = 2;                     /* group SID revision */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[54] = 0x40;                  /* ACL size beyond the SD */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[52] = 1;                     /* ACL revision 1 */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[56] = 3;                     /* AceCount beyond the ACL */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[62] = 0x16;                  /* AceSize not a multiple of 4 */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[62] = 0x10;                  /* AceSize too small for its SID */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[16] = 0x6a;                  /* DACL offset near the end */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_ERROR_INVALID_SECURITY_DESCR);
    RESET(); sd[2] = 0x14; sd[12] = 0x34;    /* a SACL sharing the DACL's bytes is valid */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_OK);
    /* but it is not the synthesized shape */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    RESET(); sd[2] = 0x00; sd[16] = 0xff;    /* DACL not present: its offset is ignored */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_OK);
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    RESET(); sd[4] = 0;                      /* no owner: valid, not mappable */
    assert_int_equal(wb_sd_validate(sd, sizeof(sd)), WB_OK);
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    assert_int_equal(wb_sd_to_posix(sd_0640, 40, 0, &uid, &gid, &mode), WB_ERROR_INVALID_SECURITY_DESCR);
#undef RESET
}

static void test_reverse_refuses_other_shapes(void **state)
{
    uint8_t sd[sizeof(sd_0640)];
    uint32_t uid, gid, mode;

    memcpy(sd, sd_0640, sizeof(sd));
    sd[60] = 1;                              /* owner ACE becomes ACCESS_DENIED */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    memcpy(sd, sd_0640, sizeof(sd));
    sd[61] = 0x03;                           /* inheritance flags */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    memcpy(sd, sd_0640, sizeof(sd));
    sd[66] |= 0x01;                          /* owner also gets DELETE (0x10000) */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    memcpy(sd, sd_0640, sizeof(sd));
    sd[66] &= ~0x08;                         /* owner without WRITE_OWNER */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    memcpy(sd, sd_0640, sizeof(sd));
    sd[28] = 3;                              /* owner SID S-1-22-3-1000 */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    memcpy(sd, sd_0640, sizeof(sd));
    sd[104] = 0x65;                          /* group ACE for another gid */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    memcpy(sd, sd_0640, sizeof(sd));
    sd[88] = 0x88;                           /* group ACE without FILE_READ_DATA: not a union of r/w/x */
    assert_int_equal(wb_sd_to_posix(sd, sizeof(sd), 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
}

/* The last ACE's SID has no sub-authorities and ends the buffer: the check
 * for Everyone (S-1-1-0, 12 bytes) must not read past its 8 bytes (ASan). */
static void test_reverse_short_sid_at_end(void **state)
{
    static const uint8_t ace[16] = {0, 0, 16, 0, 0xa9, 0, 0x12, 0, 1, 0, 0, 0, 0, 0, 0, 1};
    size_t size = sizeof(sd_0640) + sizeof(ace);
    uint8_t *sd = malloc(size);
    uint32_t uid, gid, mode;

    assert_non_null(sd);
    memcpy(sd, sd_0640, sizeof(sd_0640));
    memcpy(sd + sizeof(sd_0640), ace, sizeof(ace));
    sd[54] += sizeof(ace);                   /* AclSize */
    sd[56] = 3;                              /* AceCount */
    assert_int_equal(wb_sd_validate(sd, size), WB_OK);
    assert_int_equal(wb_sd_to_posix(sd, size, 0, &uid, &gid, &mode), WB_ERROR_NOT_SUPPORTED);
    free(sd);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_synthesize_vector),
        cmocka_unit_test(test_directory_rights),
        cmocka_unit_test(test_every_mode_round_trips),
        cmocka_unit_test(test_posix_acl),
        cmocka_unit_test(test_validate_malformed),
        cmocka_unit_test(test_reverse_refuses_other_shapes),
        cmocka_unit_test(test_reverse_short_sid_at_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
