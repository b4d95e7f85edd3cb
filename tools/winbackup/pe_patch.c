/*
 * Turn exports of a PE32+ DLL into forwarders to another DLL.
 *
 * Used by `winbackup wine` on a copy of the installed Wine's own
 * kernel32.dll: BackupRead/BackupSeek/BackupWrite become forwarders
 * ("winbackup.BackupRead", ...) so that unmodified programs importing them
 * from kernel32 reach the real implementation.  Wine cannot load another
 * kernel32 (see docs/wine-notes), but it loads its own code as "native" once
 * the builtin marker is cleared.
 *
 * What changes in the image, and why:
 *  - the 16 bytes at 0x40 ("Wine builtin DLL") are cleared, or Wine would
 *    treat the copy as builtin and load its own file instead;
 *  - a new section holds a copy of the export address table with the chosen
 *    entries pointing at forwarder strings stored right after it; the export
 *    directory's AddressOfFunctions is pointed at the copy (the original
 *    table may have no slack, and editing in place would change the code
 *    entries' meaning);
 *  - the export data-directory Size is stretched up to the end of the new
 *    section: a loader takes an EAT entry as a forwarder only when its RVA
 *    falls inside [export VA, export VA + Size), and both kernel32's own
 *    forwarders to kernelbase (inside .edata) and the new strings must
 *    qualify.  Every other EAT entry must then lie outside that range, which
 *    is checked before anything is written.
 *
 * Only standard PE structures are touched; the file is read whole, edited in
 * memory and written to a new path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wine.h"

#define PE_DOS_LFANEW            0x3c
#define PE_OPT_MAGIC_PE32PLUS    0x20b
#define PE_SECTION_HEADER_SIZE   40
#define PE_SCN_INITIALIZED_DATA  0x00000040u
#define PE_SCN_MEM_READ          0x40000000u

struct pe_image
{
    uint8_t *data;
    size_t size;
    size_t nt;              /* offset of "PE\0\0" */
    size_t opt;             /* offset of the optional header */
    size_t sections;        /* offset of the section table */
    unsigned int nsections;
};

static uint16_t get16(const uint8_t *p) { return p[0] | (p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | ((uint32_t)get16(p + 2) << 16); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }

static int fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errsize, fmt, args);
    va_end(args);
    return -1;
}

static uint32_t align_up(uint32_t value, uint32_t alignment)
{
    return (value + alignment - 1) / alignment * alignment;
}

/* File offset of an RVA range, or (size_t)-1 when it is not fully backed by file data. */
static size_t rva_to_offset(const struct pe_image *pe, uint32_t rva, uint32_t len)
{
    unsigned int i;
    for (i = 0; i < pe->nsections; i++)
    {
        const uint8_t *sh = pe->data + pe->sections + i * PE_SECTION_HEADER_SIZE;
        uint32_t va = get32(sh + 12), raw_size = get32(sh + 16), raw_ptr = get32(sh + 20);
        if (rva >= va && (uint64_t)rva + len <= (uint64_t)va + raw_size)
        {
            if ((uint64_t)raw_ptr + (rva - va) + len > pe->size) return (size_t)-1;
            return raw_ptr + (rva - va);
        }
    }
    return (size_t)-1;
}

static int parse_headers(struct pe_image *pe, char *err, size_t errsize)
{
    uint16_t opt_size;
    if (pe->size < 0x40 + 16 || pe->data[0] != 'M' || pe->data[1] != 'Z')
        return fail(err, errsize, "not a PE file (no MZ header)");
    pe->nt = get32(pe->data + PE_DOS_LFANEW);
    if (pe->nt > pe->size - 24 || memcmp(pe->data + pe->nt, "PE\0\0", 4))
        return fail(err, errsize, "not a PE file (no PE signature)");
    pe->nsections = get16(pe->data + pe->nt + 6);
    opt_size = get16(pe->data + pe->nt + 20);
    pe->opt = pe->nt + 24;
    pe->sections = pe->opt + opt_size;
    if (opt_size < 112 + 16 * 8 || pe->sections + (size_t)(pe->nsections + 1) * PE_SECTION_HEADER_SIZE > pe->size)
        return fail(err, errsize, "truncated PE headers");
    if (get16(pe->data + pe->opt) != PE_OPT_MAGIC_PE32PLUS)
        return fail(err, errsize, "not a PE32+ (64-bit) image");
    if (get32(pe->data + pe->opt + 108) < 1)
        return fail(err, errsize, "no export directory");
    return 0;
}

static int find_export_index(const struct pe_image *pe, size_t exp, const char *name, uint32_t *index)
{
    uint32_t nnames = get32(pe->data + exp + 24);
    uint32_t names_rva = get32(pe->data + exp + 32), ords_rva = get32(pe->data + exp + 36);
    size_t names, ords;
    uint32_t i;

    if (nnames > 65536) return -1;   /* ordinals are 16-bit */
    names = rva_to_offset(pe, names_rva, nnames * 4);
    ords = rva_to_offset(pe, ords_rva, nnames * 2);
    if (names == (size_t)-1 || ords == (size_t)-1) return -1;
    for (i = 0; i < nnames; i++)
    {
        size_t len = strlen(name) + 1;
        size_t str = rva_to_offset(pe, get32(pe->data + names + i * 4), len);
        if (str != (size_t)-1 && !memcmp(pe->data + str, name, len))
        {
            *index = get16(pe->data + ords + i * 2);
            return 0;
        }
    }
    return -1;
}

int wb_pe_forward_exports(const char *in_path, const char *out_path, const char *target_module,
                          const char *const *names, size_t count, char *err, size_t errsize)
{
    struct pe_image pe = { 0 };
    FILE *file;
    long file_size;
    size_t exp, eat, new_header, new_raw_ptr, strings_size = 0, out_size;
    uint32_t exp_rva, exp_size, nfuncs, eat_rva, sect_align, file_align, image_size;
    uint32_t new_rva, new_virtual_size, new_raw_size, new_exp_size, header_end, i;
    uint32_t *indices = NULL;
    uint8_t *out = NULL;
    int ret = -1;

    if (!count) return fail(err, errsize, "no export to forward");
    for (i = 0; i < count; i++) strings_size += strlen(target_module) + 1 + strlen(names[i]) + 1;

    if (!(file = fopen(in_path, "rb"))) return fail(err, errsize, "%s: %s", in_path, strerror(errno));
    if (fseek(file, 0, SEEK_END) || (file_size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET))
    {
        fclose(file);
        return fail(err, errsize, "%s: cannot get size", in_path);
    }
    if (file_size > 512L * 1024 * 1024)
    {
        fclose(file);
        return fail(err, errsize, "%s: too large for a DLL", in_path);
    }
    pe.size = file_size;
    if (!(pe.data = malloc(pe.size ? pe.size : 1)) || fread(pe.data, 1, pe.size, file) != pe.size)
    {
        fclose(file);
        free(pe.data);
        return fail(err, errsize, "%s: read error", in_path);
    }
    fclose(file);

    if (parse_headers(&pe, err, errsize)) goto done;
    sect_align = get32(pe.data + pe.opt + 32);
    file_align = get32(pe.data + pe.opt + 36);
    image_size = get32(pe.data + pe.opt + 56);
    header_end = get32(pe.data + pe.opt + 60);
    exp_rva = get32(pe.data + pe.opt + 112);
    exp_size = get32(pe.data + pe.opt + 116);
    if (!sect_align || !file_align || (sect_align & (sect_align - 1)) || (file_align & (file_align - 1)))
    {
        fail(err, errsize, "bad section/file alignment");
        goto done;
    }
    new_header = pe.sections + (size_t)pe.nsections * PE_SECTION_HEADER_SIZE;
    if (new_header + PE_SECTION_HEADER_SIZE > header_end)
    {
        fail(err, errsize, "no room for another section header");
        goto done;
    }
    for (i = 0; i < PE_SECTION_HEADER_SIZE; i++)
        if (pe.data[new_header + i])
        {
            fail(err, errsize, "section header slot is not free");
            goto done;
        }
    if (!exp_rva || !exp_size)
    {
        fail(err, errsize, "no export directory");
        goto done;
    }
    if ((exp = rva_to_offset(&pe, exp_rva, 40)) == (size_t)-1)
    {
        fail(err, errsize, "export directory outside the file");
        goto done;
    }
    nfuncs = get32(pe.data + exp + 20);
    eat_rva = get32(pe.data + exp + 28);
    if (nfuncs > 65536 || (eat = rva_to_offset(&pe, eat_rva, nfuncs * 4)) == (size_t)-1)
    {
        fail(err, errsize, "bad export address table");
        goto done;
    }

    if (!(indices = calloc(count, sizeof(*indices)))) goto nomem;
    for (i = 0; i < count; i++)
    {
        if (find_export_index(&pe, exp, names[i], &indices[i]) || indices[i] >= nfuncs)
        {
            fail(err, errsize, "%s does not export %s", in_path, names[i]);
            goto done;
        }
    }

    /* The new section: EAT copy, then the forwarder strings. */
    if ((uint64_t)image_size + sect_align + (uint64_t)nfuncs * 4 + strings_size + file_align > 0x7fffffffu)
    {
        fail(err, errsize, "bad SizeOfImage");
        goto done;
    }
    new_rva = align_up(image_size, sect_align);
    if (exp_rva >= new_rva)
    {
        fail(err, errsize, "export directory beyond SizeOfImage");
        goto done;
    }
    new_virtual_size = nfuncs * 4 + strings_size;
    new_raw_size = align_up(new_virtual_size, file_align);
    new_raw_ptr = align_up(pe.size, file_align);
    new_exp_size = new_rva + new_virtual_size - exp_rva;

    /* Every entry that stays code must remain outside the stretched export range. */
    for (i = 0; i < nfuncs; i++)
    {
        uint32_t rva = get32(pe.data + eat + i * 4), j;
        int forwarded = 0;
        for (j = 0; j < count; j++) if (indices[j] == i) forwarded = 1;
        if (forwarded || !rva) continue;
        if ((uint64_t)rva >= (uint64_t)exp_rva + exp_size && (uint64_t)rva < (uint64_t)exp_rva + new_exp_size)
        {
            fail(err, errsize, "export %u (rva 0x%x) would become a forwarder", i, rva);
            goto done;
        }
    }

    out_size = new_raw_ptr + new_raw_size;
    if (!(out = calloc(1, out_size))) goto nomem;
    memcpy(out, pe.data, pe.size);

    /* not builtin any more */
    memset(out + 0x40, 0, 16);

    memcpy(out + new_raw_ptr, pe.data + eat, nfuncs * 4);
    {
        size_t pos = new_raw_ptr + nfuncs * 4;
        for (i = 0; i < count; i++)
        {
            int len = sprintf((char *)out + pos, "%s.%s", target_module, names[i]);
            put32(out + new_raw_ptr + indices[i] * 4, new_rva + (uint32_t)(pos - new_raw_ptr));
            pos += len + 1;
        }
    }

    memcpy(out + new_header, ".wbfwd\0\0", 8);
    put32(out + new_header + 8, new_virtual_size);
    put32(out + new_header + 12, new_rva);
    put32(out + new_header + 16, new_raw_size);
    put32(out + new_header + 20, (uint32_t)new_raw_ptr);
    put32(out + new_header + 36, PE_SCN_INITIALIZED_DATA | PE_SCN_MEM_READ);
    put16(out + pe.nt + 6, pe.nsections + 1);
    put32(out + pe.opt + 56, align_up(new_rva + new_virtual_size, sect_align));   /* SizeOfImage */
    put32(out + pe.opt + 64, 0);                                                  /* CheckSum: not verified for DLLs */
    put32(out + pe.opt + 116, new_exp_size);
    put32(out + exp + 28, new_rva);

    if (!(file = fopen(out_path, "wb")))
    {
        fail(err, errsize, "%s: %s", out_path, strerror(errno));
        goto done;
    }
    if ((fwrite(out, 1, out_size, file) != out_size) | fclose(file))
    {
        fail(err, errsize, "%s: write error", out_path);
        goto done;
    }
    ret = 0;
    goto done;

nomem:
    fail(err, errsize, "out of memory");
done:
    free(out);
    free(indices);
    free(pe.data);
    return ret;
}
