/*
 * Self-relative SECURITY_DESCRIPTORs ([MS-DTYP] 2.4.6): validation, and the
 * POSIX owner/group/mode <-> SD mapping the POSIX backend uses when no
 * descriptor is stored with a file.
 *
 * Mapping (close to Samba's and Wine's synthesized descriptors):
 *   owner uid  -> S-1-22-1-<uid>   (Samba's "Unix User" SIDs)
 *   group gid  -> S-1-22-2-<gid>   ("Unix Group")
 *   other      -> S-1-1-0          (Everyone)
 *   r -> FILE_GENERIC_READ    0x120089
 *   w -> FILE_GENERIC_WRITE   0x120116, plus FILE_DELETE_CHILD (0x40) on a
 *        directory.  Not DELETE: whether a POSIX file can be removed depends
 *        on the write bit of its parent directory, which is exactly what
 *        FILE_DELETE_CHILD on that directory expresses.
 *   x -> FILE_GENERIC_EXECUTE 0x1200a0
 *   the owner's ACE also always carries READ_CONTROL|WRITE_DAC|WRITE_OWNER:
 *   the owner may always read and change permissions (chmod) on POSIX.
 *
 * Layout written: 20-byte header (revision 1, control SE_SELF_RELATIVE |
 * SE_DACL_PRESENT, no SACL), owner SID, group SID, then the DACL (revision
 * 2) of ACCESS_ALLOWED ACEs with no inheritance flags, in this order:
 *   owner (always), named users, owning group, named groups, Everyone.
 * An ACE whose rights would be 0 is left out (except the owner's).  With a
 * POSIX ACL, the rights of named users, the owning group and named groups
 * are first masked with the ACL_MASK entry, as POSIX access checks do.
 * The DACL has only allow ACEs, so it grants the union of the entries'
 * rights to a user in several of them, where POSIX picks the first match
 * (owner > named user > groups > other): a deliberate approximation.
 *
 * The reverse (wb_sd_to_posix) accepts only the exact shape produced
 * without an ACL, so that SD -> mode -> SD is the identity; anything else
 * (named entries, deny ACEs, inheritance, a SACL, other SIDs) is
 * WB_ERROR_NOT_SUPPORTED and the caller keeps the descriptor verbatim.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "winbackup/metadata.h"
#include "le.h"

#define SD_HEADER_SIZE  20u
#define ACL_HEADER_SIZE 8u
#define ACE_HEADER_SIZE 4u
#define SID_MAX_SUB     15u
#define ACCESS_ALLOWED_ACE_TYPE 0u


/* Size of a valid SID at p (at most avail bytes), 0 when invalid. */
static size_t sid_size(const uint8_t *p, size_t avail)
{
    size_t size;
    if (avail < 8 || p[0] != 1 || p[1] > SID_MAX_SUB) return 0;
    size = 8 + 4u * p[1];
    return size <= avail ? size : 0;
}

static int ace_is_object(uint8_t type)
{
    /* ACCESS_{ALLOWED,DENIED}_OBJECT, SYSTEM_{AUDIT,ALARM}_OBJECT and their
     * callback forms carry Flags + up to two GUIDs before the SID */
    return (type >= 5 && type <= 8) || type == 0x0b || type == 0x0c || type == 0x0f || type == 0x10;
}

static int ace_has_sid(uint8_t type)
{
    return type <= 3 || (type >= 9 && type <= 0x0e) || (type >= 0x11 && type <= 0x13);
}

static uint32_t validate_acl(const uint8_t *sd, size_t size, uint32_t offset)
{
    const uint8_t *acl;
    size_t acl_size, pos;
    unsigned int i, count;

    if (offset < SD_HEADER_SIZE || offset > size || size - offset < ACL_HEADER_SIZE)
        return WB_ERROR_INVALID_SECURITY_DESCR;
    acl = sd + offset;
    acl_size = get_u16(acl + 2);
    count = get_u16(acl + 4);
    if (acl[0] < 2 || acl[0] > 4 || acl_size < ACL_HEADER_SIZE || acl_size > size - offset)
        return WB_ERROR_INVALID_SECURITY_DESCR;
    for (i = 0, pos = ACL_HEADER_SIZE; i < count; i++)
    {
        const uint8_t *ace = acl + pos;
        size_t ace_size, body;

        if (acl_size - pos < ACE_HEADER_SIZE) return WB_ERROR_INVALID_SECURITY_DESCR;
        ace_size = get_u16(ace + 2);
        if (ace_size < ACE_HEADER_SIZE || ace_size % 4 || ace_size > acl_size - pos)
            return WB_ERROR_INVALID_SECURITY_DESCR;
        body = ACE_HEADER_SIZE + 4;   /* the access mask */
        if (ace_is_object(ace[0]))
        {
            uint32_t flags;
            if (ace_size < body + 4) return WB_ERROR_INVALID_SECURITY_DESCR;
            flags = get_u32(ace + body);
            body += 4 + ((flags & 1) ? 16 : 0) + ((flags & 2) ? 16 : 0);
            if (ace_size < body || !sid_size(ace + body, ace_size - body)) return WB_ERROR_INVALID_SECURITY_DESCR;
        }
        else if (ace_has_sid(ace[0]))
        {
            if (ace_size < body || !sid_size(ace + body, ace_size - body)) return WB_ERROR_INVALID_SECURITY_DESCR;
        }
        pos += ace_size;
    }
    return WB_OK;
}

uint32_t wb_sd_validate(const uint8_t *sd, size_t size)
{
    uint16_t control;
    uint32_t owner, group, sacl, dacl;

    if (!sd || size < SD_HEADER_SIZE || size > UINT32_MAX) return WB_ERROR_INVALID_SECURITY_DESCR;
    control = get_u16(sd + 2);
    if (sd[0] != 1 || !(control & WB_SE_SELF_RELATIVE)) return WB_ERROR_INVALID_SECURITY_DESCR;
    owner = get_u32(sd + 4);
    group = get_u32(sd + 8);
    sacl = get_u32(sd + 12);
    dacl = get_u32(sd + 16);
    if (owner && (owner < SD_HEADER_SIZE || owner >= size || !sid_size(sd + owner, size - owner)))
        return WB_ERROR_INVALID_SECURITY_DESCR;
    if (group && (group < SD_HEADER_SIZE || group >= size || !sid_size(sd + group, size - group)))
        return WB_ERROR_INVALID_SECURITY_DESCR;
    /* a present ACL at offset 0 is a NULL ACL; a cleared flag means the
     * offset is meaningless and ignored */
    if ((control & WB_SE_SACL_PRESENT) && sacl && validate_acl(sd, size, sacl)) return WB_ERROR_INVALID_SECURITY_DESCR;
    if ((control & WB_SE_DACL_PRESENT) && dacl && validate_acl(sd, size, dacl)) return WB_ERROR_INVALID_SECURITY_DESCR;
    return WB_OK;
}

static size_t put_sid(uint8_t *p, uint8_t authority, uint32_t sub1, int has_sub2, uint32_t sub2)
{
    p[0] = 1;
    p[1] = has_sub2 ? 2 : 1;
    memset(p + 2, 0, 5);
    p[7] = authority;
    put_u32(p + 8, sub1);
    if (has_sub2) put_u32(p + 12, sub2);
    return has_sub2 ? 16 : 12;
}

static uint32_t perms_to_rights(uint32_t perms, int is_dir)
{
    uint32_t rights = 0;
    if (perms & 4) rights |= WB_FILE_GENERIC_READ;
    if (perms & 2) rights |= WB_FILE_GENERIC_WRITE | (is_dir ? WB_FILE_DELETE_CHILD : 0);
    if (perms & 1) rights |= WB_FILE_GENERIC_EXECUTE;
    return rights;
}

/* Exact inverse of perms_to_rights; -1 when mask is not such a union. */
static int rights_to_perms(uint32_t mask, int is_dir, uint32_t extra)
{
    uint32_t perms = ((mask & 0x1) ? 4 : 0) | ((mask & 0x2) ? 2 : 0) | ((mask & 0x20) ? 1 : 0);
    if ((perms_to_rights(perms, is_dir) | extra) != mask) return -1;
    return perms;
}

struct ace_spec
{
    int kind;           /* 0 user, 1 group, 2 everyone */
    uint32_t id;
    uint32_t rights;
};

uint32_t wb_sd_from_posix(uint32_t uid, uint32_t gid, uint32_t mode, int is_dir,
                          const struct wb_posix_acl_entry *acl, size_t count,
                          uint8_t **sd, size_t *sd_size)
{
    struct ace_spec *aces;
    size_t i, n = 0, acl_size = ACL_HEADER_SIZE, total, pos;
    uint32_t mask = 7, owner_perms = (mode >> 6) & 7, group_perms = (mode >> 3) & 7, other_perms = mode & 7;
    uint8_t *buf;
    int pass;

    if (!sd || !sd_size || (!acl && count)) return WB_ERROR_INVALID_PARAMETER;
    *sd = NULL;
    *sd_size = 0;
    if (count > 0xffff) return WB_ERROR_INVALID_PARAMETER;

    for (i = 0; i < count; i++)
    {
        switch (acl[i].tag)
        {
        case WB_ACL_USER_OBJ: owner_perms = acl[i].perms & 7; break;
        case WB_ACL_GROUP_OBJ: group_perms = acl[i].perms & 7; break;
        case WB_ACL_OTHER: other_perms = acl[i].perms & 7; break;
        case WB_ACL_MASK: mask = acl[i].perms & 7; break;
        case WB_ACL_USER: case WB_ACL_GROUP: break;
        default: return WB_ERROR_INVALID_PARAMETER;
        }
    }
    if (!(aces = calloc(count + 3, sizeof(*aces)))) return WB_ERROR_NOT_ENOUGH_MEMORY;

    aces[n].kind = 0; aces[n].id = uid;
    aces[n++].rights = perms_to_rights(owner_perms, is_dir) | WB_OWNER_EXTRA_RIGHTS;
    /* pass 0: named users; 1: owning group; 2: named groups */
    for (pass = 0; pass < 3; pass++)
    {
        if (pass == 1)
        {
            uint32_t rights = perms_to_rights(group_perms & mask, is_dir);
            if (rights) { aces[n].kind = 1; aces[n].id = gid; aces[n++].rights = rights; }
            continue;
        }
        for (i = 0; i < count; i++)
        {
            uint32_t rights;
            if (acl[i].tag != (pass ? WB_ACL_GROUP : WB_ACL_USER)) continue;
            if (!(rights = perms_to_rights(acl[i].perms & mask, is_dir))) continue;
            aces[n].kind = pass ? 1 : 0;
            aces[n].id = acl[i].id;
            aces[n++].rights = rights;
        }
    }
    if (other_perms)
    {
        aces[n].kind = 2;
        aces[n++].rights = perms_to_rights(other_perms, is_dir);
    }

    for (i = 0; i < n; i++) acl_size += ACE_HEADER_SIZE + 4 + (aces[i].kind == 2 ? 12 : 16);
    if (acl_size > 0xffff)
    {
        free(aces);
        return WB_ERROR_INVALID_PARAMETER;
    }
    total = SD_HEADER_SIZE + 16 + 16 + acl_size;
    if (!(buf = calloc(1, total)))
    {
        free(aces);
        return WB_ERROR_NOT_ENOUGH_MEMORY;
    }
    buf[0] = 1;
    put_u16(buf + 2, WB_SE_SELF_RELATIVE | WB_SE_DACL_PRESENT);
    pos = SD_HEADER_SIZE;
    put_u32(buf + 4, pos);
    pos += put_sid(buf + pos, 22, 1, 1, uid);
    put_u32(buf + 8, pos);
    pos += put_sid(buf + pos, 22, 2, 1, gid);
    put_u32(buf + 16, pos);
    buf[pos] = 2;   /* ACL_REVISION */
    put_u16(buf + pos + 2, acl_size);
    put_u16(buf + pos + 4, n);
    pos += ACL_HEADER_SIZE;
    for (i = 0; i < n; i++)
    {
        uint8_t *ace = buf + pos;
        size_t sid_len;

        ace[0] = ACCESS_ALLOWED_ACE_TYPE;
        ace[1] = 0;
        put_u32(ace + 4, aces[i].rights);
        if (aces[i].kind == 2) sid_len = put_sid(ace + 8, 1, 0, 0, 0);
        else sid_len = put_sid(ace + 8, 22, aces[i].kind + 1, 1, aces[i].id);
        put_u16(ace + 2, 8 + sid_len);
        pos += 8 + sid_len;
    }
    free(aces);
    *sd = buf;
    *sd_size = total;
    return WB_OK;
}

/* S-1-22-<kind>-<id>: returns 1 and sets *id when sid (valid) matches. */
static int unix_sid(const uint8_t *sid, uint32_t kind, uint32_t *id)
{
    static const uint8_t auth22[6] = {0, 0, 0, 0, 0, 22};
    if (sid[1] != 2 || memcmp(sid + 2, auth22, 6) || get_u32(sid + 8) != kind) return 0;
    *id = get_u32(sid + 12);
    return 1;
}

/* S-1-1-0.  sid is valid, so it has 8 + 4 * sid[1] bytes: compare the
 * sub-authority count first, never more bytes than the SID has. */
static int everyone_sid(const uint8_t *sid)
{
    static const uint8_t everyone[12] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    return sid[1] == 1 && !memcmp(sid, everyone, sizeof(everyone));
}

uint32_t wb_sd_to_posix(const uint8_t *sd, size_t size, int is_dir,
                        uint32_t *uid, uint32_t *gid, uint32_t *mode)
{
    uint32_t owner, group, dacl, owner_id, group_id, id, ret;
    const uint8_t *acl;
    size_t pos;
    unsigned int i, count;
    int perms, stage = 0;
    uint32_t result = 0;

    if (!uid || !gid || !mode) return WB_ERROR_INVALID_PARAMETER;
    if ((ret = wb_sd_validate(sd, size))) return ret;
    if (get_u16(sd + 2) != (WB_SE_SELF_RELATIVE | WB_SE_DACL_PRESENT)) return WB_ERROR_NOT_SUPPORTED;
    owner = get_u32(sd + 4);
    group = get_u32(sd + 8);
    dacl = get_u32(sd + 16);
    if (!owner || !group || !dacl) return WB_ERROR_NOT_SUPPORTED;
    if (!unix_sid(sd + owner, 1, &owner_id) || !unix_sid(sd + group, 2, &group_id)) return WB_ERROR_NOT_SUPPORTED;

    acl = sd + dacl;
    count = get_u16(acl + 4);
    if (!count) return WB_ERROR_NOT_SUPPORTED;
    for (i = 0, pos = ACL_HEADER_SIZE; i < count; i++)
    {
        const uint8_t *ace = acl + pos;
        const uint8_t *sid = ace + 8;
        uint32_t mask;

        pos += get_u16(ace + 2);
        if (ace[0] != ACCESS_ALLOWED_ACE_TYPE || ace[1]) return WB_ERROR_NOT_SUPPORTED;
        if (get_u16(ace + 2) != 8 + 8 + 4u * sid[1]) return WB_ERROR_NOT_SUPPORTED;
        mask = get_u32(ace + 4);
        /* stage: 0 expects the owner, 1 the group (optional), 2 Everyone (optional) */
        if (stage == 0)
        {
            if (!unix_sid(sid, 1, &id) || id != owner_id) return WB_ERROR_NOT_SUPPORTED;
            if ((perms = rights_to_perms(mask, is_dir, WB_OWNER_EXTRA_RIGHTS)) < 0) return WB_ERROR_NOT_SUPPORTED;
            result |= perms << 6;
            stage = 1;
        }
        else if (stage == 1 && unix_sid(sid, 2, &id) && id == group_id)
        {
            if ((perms = rights_to_perms(mask, is_dir, 0)) <= 0) return WB_ERROR_NOT_SUPPORTED;
            result |= perms << 3;
            stage = 2;
        }
        else if (stage <= 2 && everyone_sid(sid))
        {
            if ((perms = rights_to_perms(mask, is_dir, 0)) <= 0) return WB_ERROR_NOT_SUPPORTED;
            result |= perms;
            stage = 3;
        }
        else return WB_ERROR_NOT_SUPPORTED;
    }
    *uid = owner_id;
    *gid = group_id;
    *mode = result;
    return WB_OK;
}

uint32_t wb_posix_acl_parse(const uint8_t *value, size_t size,
                            struct wb_posix_acl_entry **entries, size_t *count)
{
    struct wb_posix_acl_entry *list;
    size_t i, n;

    if (!entries || !count) return WB_ERROR_INVALID_PARAMETER;
    *entries = NULL;
    *count = 0;
    /* header: u32 version (2); entries: u16 tag, u16 perm, u32 id */
    if (!value || size < 4 || (size - 4) % 8 || get_u32(value) != 2) return WB_ERROR_INVALID_DATA;
    n = (size - 4) / 8;
    if (!n) return WB_OK;
    if (!(list = calloc(n, sizeof(*list)))) return WB_ERROR_NOT_ENOUGH_MEMORY;
    for (i = 0; i < n; i++)
    {
        const uint8_t *p = value + 4 + 8 * i;
        list[i].tag = get_u16(p);
        list[i].perms = get_u16(p + 2) & 7;
        list[i].id = get_u32(p + 4);
        switch (list[i].tag)
        {
        case WB_ACL_USER_OBJ: case WB_ACL_USER: case WB_ACL_GROUP_OBJ:
        case WB_ACL_GROUP: case WB_ACL_MASK: case WB_ACL_OTHER: break;
        default:
            free(list);
            return WB_ERROR_INVALID_DATA;
        }
    }
    *entries = list;
    *count = n;
    return WB_OK;
}
