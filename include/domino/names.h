/*
 * names.h - name and path limits.
 */
#ifndef NAME_DEFS
#define NAME_DEFS

#define MAXPATH     256     /* includes the terminating NUL */
#define MAXUSERNAME 256

#endif
