/*
 * osfile.h - file-related names of the Domino C API.  The backup flow opens
 * the database file itself with the platform's file calls (NSFDbPathGet
 * gives its path), so this header only brings in the base definitions.
 */
#ifndef OSFILE_DEFS
#define OSFILE_DEFS

#include "global.h"
#include "names.h"

#endif
