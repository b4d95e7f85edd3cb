#!/usr/bin/env python3
"""An independent reading of the WIN32_STREAM_ID backup stream format.

Written from the format description ([MS-BKUP], winbase.h, the project's
reference notes), sharing no code with the C encoder, so that the tests can
check what the encoder produces against the spec rather than against itself.

    python3 wbstream.py parse STREAM           print the streams as JSON
    python3 wbstream.py expect SPEC.json       print the expected stream bytes (hex)
    python3 wbstream.py expect-file FILE       write the expected stream of a real file
                                               (its holes, user.* xattrs as EAs and
                                               Samba named streams) to standard output
"""
import json
import struct
import sys

HEADER = struct.Struct("<IIQI")  # dwStreamId, dwStreamAttributes, Size, dwStreamNameSize: 20 bytes
assert HEADER.size == 20

BACKUP_DATA, BACKUP_EA_DATA, BACKUP_SECURITY_DATA, BACKUP_ALTERNATE_DATA = 1, 2, 3, 4
BACKUP_LINK, BACKUP_REPARSE_DATA, BACKUP_SPARSE_BLOCK = 5, 8, 9
STREAM_SPARSE_ATTRIBUTE = 8


def parse(data):
    """Split a stream into dicts; raise ValueError on anything malformed."""
    streams, pos = [], 0
    while pos < len(data):
        if len(data) - pos < HEADER.size:
            raise ValueError("truncated header at %d" % pos)
        sid, attrs, size, name_size = HEADER.unpack_from(data, pos)
        pos += HEADER.size
        if not 1 <= sid <= 11:
            raise ValueError("bad stream id %d" % sid)
        if name_size % 2 or len(data) - pos < name_size + size:
            raise ValueError("bad sizes in stream %d" % sid)
        name = data[pos:pos + name_size].decode("utf-16-le")
        pos += name_size
        payload = data[pos:pos + size]
        pos += size
        entry = {"id": sid, "attributes": attrs, "size": size, "name": name}
        if sid == BACKUP_SPARSE_BLOCK:
            entry["offset"] = struct.unpack_from("<Q", payload)[0]
            entry["data"] = payload[8:].hex()
        else:
            entry["data"] = payload.hex()
        streams.append(entry)
    return streams


def header(sid, attrs, size, name=""):
    raw = name.encode("utf-16-le")
    return HEADER.pack(sid, attrs, size, len(raw)) + raw


def ea_blob(eas):
    """FILE_FULL_EA_INFORMATION chain: NextEntryOffset u32, Flags u8,
    EaNameLength u8, EaValueLength u16, name, NUL, value; every entry but
    the last padded to 4 bytes ([MS-FSCC] 2.4.15: no padding after the last
    element), NextEntryOffset 0 on the last."""
    entries = []
    for name, value, flags in eas:
        body = struct.pack("<BBH", flags, len(name), len(value)) + name + b"\0" + value
        entry_len = 4 + len(body)
        padded = (entry_len + 3) & ~3
        entries.append((body, padded))
    out = b""
    for i, (body, padded) in enumerate(entries):
        last = i + 1 == len(entries)
        entry = struct.pack("<I", 0 if last else padded) + body
        out += entry if last else entry + b"\0" * (padded - len(entry))
    return out


def expect(spec):
    """Expected stream of a file described by spec (see cli-roundtrip.sh):
    DATA (or sparse DATA + blocks + final block), EA_DATA with the EAs in
    the spec's order (the order they are stored in, as NTFS returns them),
    one ALTERNATE_DATA per named stream in name order."""
    out = b""
    size = spec["size"]
    ranges = spec.get("ranges")
    content = bytes.fromhex(spec.get("content", ""))
    if ranges is None:
        if size:
            out += header(BACKUP_DATA, 0, size) + content
    else:
        out += header(BACKUP_DATA, STREAM_SPARSE_ATTRIBUTE, 0)
        # [MS-BKUP] 2.2: STREAM_SPARSE_ATTRIBUTE marks every stream that is
        # part of a sparse file stream: the DATA header and each SPARSE_BLOCK.
        for offset, hexdata in ranges:
            block = bytes.fromhex(hexdata)
            out += header(BACKUP_SPARSE_BLOCK, STREAM_SPARSE_ATTRIBUTE, 8 + len(block)) + struct.pack("<Q", offset) + block
        out += header(BACKUP_SPARSE_BLOCK, STREAM_SPARSE_ATTRIBUTE, 8) + struct.pack("<Q", size)
    eas = [(k.encode(), bytes.fromhex(v), 0) for k, v in spec.get("eas", [])]
    if eas:
        blob = ea_blob(eas)
        out += header(BACKUP_EA_DATA, 0, len(blob)) + blob
    for name, hexdata in sorted(spec.get("streams", {}).items()):
        data = bytes.fromhex(hexdata)
        out += header(BACKUP_ALTERNATE_DATA, 0, len(data), ":%s:$DATA" % name) + data
    return out


def spec_of_file(path):
    """The spec of a real file, read with Python's own calls: data ranges by
    SEEK_DATA/SEEK_HOLE (one range covering the file is plain data), EAs in
    the order the file system lists them, Samba's named streams without their
    trailing NUL."""
    import os
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        ranges, pos = [], 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
            ranges.append([start, os.pread(fd, end - start, start).hex()])
            pos = end
        spec = {"size": size}
        if ranges == [[0, os.pread(fd, size, 0).hex()]] and size:
            spec["content"] = ranges[0][1]
        elif size:
            spec["ranges"] = ranges
    finally:
        os.close(fd)
    prefix, suffix = "user.DosStream.", ":$DATA"
    names = os.listxattr(path)
    spec["eas"] = [[n[5:], os.getxattr(path, n).hex()] for n in names
                   if n.startswith("user.") and not n.startswith(prefix)
                   and n not in ("user.DOSATTRIB", "user.wine.sd", "user.WINEREPARSE")
                   and not n.startswith("user.winbackup.")]
    def without_samba_nul(value):
        return value[:-1] if value.endswith(b"\0") else value
    spec["streams"] = {n[len(prefix):-len(suffix)]: without_samba_nul(os.getxattr(path, n)).hex()
                       for n in names if n.startswith(prefix) and n.endswith(suffix)}
    return spec


def main(argv):
    if len(argv) == 3 and argv[1] == "parse":
        with open(argv[2], "rb") as f:
            print(json.dumps(parse(f.read()), indent=1))
    elif len(argv) == 3 and argv[1] == "expect":
        with open(argv[2]) as f:
            sys.stdout.write(expect(json.load(f)).hex())
    elif len(argv) == 3 and argv[1] == "expect-file":
        sys.stdout.buffer.write(expect(spec_of_file(argv[2])))
    elif len(argv) == 2 and argv[1] == "selftest":
        # the reference's EA vector (go-winio): foo=bar, fizz=buzz, in that order
        want = bytes.fromhex("100000000003030066 6f6f0062617200 00000000000404 0066697a7a0062757a7a".replace(" ", ""))
        got = ea_blob([(b"foo", b"bar", 0), (b"fizz", b"buzz", 0)])
        assert got == want, got.hex()
        print("selftest ok")
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
