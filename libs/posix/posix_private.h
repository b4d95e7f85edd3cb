/*
 * Helpers shared by the POSIX backend's source and sink (not installed).
 */
#ifndef WINBACKUP_POSIX_PRIVATE_H
#define WINBACKUP_POSIX_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

/* xattr names the backend keeps for itself; never exposed as EAs */
#define WBP_XATTR_DOSATTRIB     "user.DOSATTRIB"
#define WBP_XATTR_STREAM_PREFIX "user.DosStream."
#define WBP_XATTR_STREAM_SUFFIX ":$DATA"
#define WBP_XATTR_SD            "user.wine.sd"
#define WBP_XATTR_REPARSE       "user.WINEREPARSE"
#define WBP_XATTR_OBJECTID      "user.winbackup.objectid"
#define WBP_XATTR_PRIVATE       "user.winbackup."

/* Value of an xattr of fd (allocated, may be empty).  WB_ERROR_FILE_NOT_FOUND
 * when it does not exist or the file system has no xattrs. */
uint32_t wbp_xattr_get(int fd, const char *name, uint8_t **value, size_t *size);
/* All xattr names of fd in the order the file system lists them (for EAs
 * that is the order they were stored in, as NTFS returns EAs); an empty
 * list when unsupported.  Free with wbp_xattr_free_list. */
uint32_t wbp_xattr_list(int fd, char ***names, size_t *count);
void wbp_xattr_free_list(char **names, size_t count);
/* Non-zero when "user."+ea_name is one of the reserved xattrs above.
 * ignore_case: compare the way NTFS compares EA names. */
int wbp_ea_name_reserved(const char *ea_name, int ignore_case);

#endif
