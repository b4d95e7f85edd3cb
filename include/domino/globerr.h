/*
 * globerr.h - STATUS layout, package codes and memory block types.
 *
 * A STATUS is 16 bits: STS_DISPLAYED (0x8000), STS_REMOTE (0x4000), then a
 * package code and an error number; ERR() keeps the package and number.
 * Values from HCL's public C API documentation and headers.
 */
#ifndef GLOBAL_ERROR_DEFS
#define GLOBAL_ERROR_DEFS

#ifdef NOERROR
# undef NOERROR
#endif
#define NOERROR 0

#define PKG_MAIN   0x0000
#define PKG_OS     0x0100
#define PKG_NSF    0x0200
#define PKG_NIF    0x0300
#define PKG_NSF2   0x0380
#define PKG_MISC   0x0400
#define PKG_NSF4   0x0EA0
#define PKG_NSF3   0x1380

#define STS_DISPLAYED ((STATUS)0x8000)
#define STS_REMOTE    ((STATUS)0x4000)

#define ERR_MASK    0x3fff
#define PKG_MASK    0x3f00
#define ERRNUM_MASK 0x00ff

#define ERR(x)    ((STATUS)((x) & ERR_MASK))
#define PKG(x)    ((STATUS)((x) & PKG_MASK))
#define ERRNUM(x) ((STATUS)((x) & ERRNUM_MASK))

/* OSMemAlloc block types */
#define MEM_SHARE    ((WORD)0x8000)
#define MEM_GROWABLE ((WORD)0x4000)

/* The toolkit's string-table markers expand to nothing in C. */
#define errortext(code, text)
#define helptext(code, text)
#define stringtext(code, text)
#define debugtext(code, text)
#define internaltext(code, text)

#endif
