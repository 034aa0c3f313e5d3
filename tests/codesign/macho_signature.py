#!/usr/bin/env python3
"""An independent reading of a thin 64-bit Mach-O's embedded code signature, for tests/codesign.rs.

It shares no code with crates/xtask (macho.rs, apple-codesign): it walks the load commands to
LC_CODE_SIGNATURE, the SuperBlob to the CodeDirectory and the CMS blob, recomputes every page
hash with hashlib, and pulls the RFC 3161 time-stamp token out of the CMS SignerInfo's unsigned
attributes. openssl then checks the CMS signature and the token (see the test).

Usage: macho_signature.py BINARY OUT_DIR
Writes OUT_DIR/codedirectory.bin, OUT_DIR/cms.der and OUT_DIR/timestamp.der (when present),
and prints a JSON report on stdout.

Usage: macho_signature.py --same-code SIGNED UNSIGNED
Exits 0 when SIGNED is UNSIGNED plus a code signature: both with their signature (and the
LC_CODE_SIGNATURE command) taken away, __LINKEDIT's sizes zeroed and trailing padding dropped are
byte-identical. This is how a Developer ID signed release is compared with a rebuild without
credentials (docs/release-build.md).
"""
import hashlib
import json
import os
import struct
import sys

LC_CODE_SIGNATURE = 0x1D
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSMAGIC_BLOBWRAPPER = 0xFADE0B01
CSSLOT_CODEDIRECTORY = 0
CSSLOT_SIGNATURESLOT = 0x10000
# id-smime-aa-timeStampToken, 1.2.840.113549.1.9.16.2.14, DER-encoded.
TIMESTAMP_TOKEN_OID = bytes.fromhex("060b2a864886f70d010910020e")


def der(buf, pos):
    """(tag, start of contents, end of contents) of the DER element at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n == 0x80:
        raise ValueError("indefinite-length BER is not expected in a code signature")
    if n & 0x80:
        count = n & 0x7F
        n = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    return tag, pos, pos + n


def children(buf, start, end):
    out = []
    pos = start
    while pos < end:
        tag, s, e = der(buf, pos)
        out.append((tag, pos, s, e))
        pos = e
    return out


def cms_signature_and_token(cms):
    """The SignerInfo's signature value and its time-stamp token (or None)."""
    _, s, e = der(cms, 0)  # ContentInfo
    content_info = children(cms, s, e)
    _, _, s, e = content_info[1]  # [0] EXPLICIT
    _, s, e = der(cms, s)  # SignedData
    signed_data = children(cms, s, e)
    signer_infos = signed_data[-1]
    assert signer_infos[0] == 0x31, "SignerInfos is not a SET"
    signers = children(cms, signer_infos[2], signer_infos[3])
    assert len(signers) == 1, "expected one signer, found %d" % len(signers)
    fields = children(cms, signers[0][2], signers[0][3])
    signature = next(cms[s:e] for (t, _, s, e) in fields if t == 0x04)
    token = None
    for tag, _, s, e in fields:
        if tag != 0xA1:  # [1] IMPLICIT unsignedAttrs
            continue
        for _, _, as_, ae in children(cms, s, e):
            attr = children(cms, as_, ae)
            oid = cms[attr[0][1]:attr[0][3]]
            if oid == TIMESTAMP_TOKEN_OID:
                _, _, vs, ve = attr[1]
                _, tp, ts_, te = children(cms, vs, ve)[0]
                token = cms[tp:te]
    return signature, token


LC_SEGMENT_64 = 0x19


def without_signature(data):
    """The file with its code signature and every trace of it in the header taken away."""
    magic, _cpu, _sub, _ftype, ncmds, sizeofcmds = struct.unpack_from("<IiiIII", data, 0)
    assert magic == 0xFEEDFACF, "not a thin 64-bit little-endian Mach-O"
    out = bytearray(data)
    commands = bytearray()
    pos, kept, end = 32, 0, len(data)
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        body = bytearray(data[pos:pos + size])
        if cmd == LC_CODE_SIGNATURE:
            end = struct.unpack_from("<I", data, pos + 8)[0]
        else:
            if cmd == LC_SEGMENT_64 and body[8:24].rstrip(b"\0") == b"__LINKEDIT":
                struct.pack_into("<Q", body, 32, 0)  # vmsize
                struct.pack_into("<Q", body, 48, 0)  # filesize
            commands += body
            kept += 1
        pos += size
    struct.pack_into("<II", out, 16, kept, len(commands))
    out[32:32 + sizeofcmds] = commands + bytes(sizeofcmds - len(commands))
    return bytes(out[:end]).rstrip(b"\0")


def same_code(signed_path, unsigned_path):
    a = without_signature(open(signed_path, "rb").read())
    b = without_signature(open(unsigned_path, "rb").read())
    if a == b:
        print("same code: %d bytes" % len(a))
        return 0
    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    print("differ at offset %#x (lengths %d and %d)" % (first, len(a), len(b)))
    return 1


def main():
    if sys.argv[1] == "--same-code":
        sys.exit(same_code(sys.argv[2], sys.argv[3]))
    path, out_dir = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    magic, _cpu, _sub, _ftype, ncmds, _size = struct.unpack_from("<IiiIII", data, 0)
    assert magic == 0xFEEDFACF, "not a thin 64-bit little-endian Mach-O"
    pos, sig = 32, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        if cmd == LC_CODE_SIGNATURE:
            sig = struct.unpack_from("<II", data, pos + 8)
        pos += size
    report = {"signed": sig is not None}
    if sig is None:
        print(json.dumps(report))
        return
    dataoff, datasize = sig
    blob = data[dataoff:dataoff + datasize]
    smagic, _length, count = struct.unpack_from(">III", blob, 0)
    assert smagic == CSMAGIC_EMBEDDED_SIGNATURE, "not an embedded signature SuperBlob"
    slots = dict(struct.unpack_from(">II", blob, 12 + 8 * i) for i in range(count))
    cd_off = slots[CSSLOT_CODEDIRECTORY]
    cmagic, clen, version, flags, hash_off, ident_off, _nspecial, ncode, code_limit = \
        struct.unpack_from(">IIIIIIIII", blob, cd_off)
    assert cmagic == CSMAGIC_CODEDIRECTORY
    hash_size, hash_type, _platform, page_shift = struct.unpack_from(">BBBB", blob, cd_off + 36)
    assert hash_type == 2 and hash_size == 32, "expected SHA-256 page hashes"
    cd = blob[cd_off:cd_off + clen]
    team = None
    if version >= 0x20200:
        (team_off,) = struct.unpack_from(">I", cd, 48)
        if team_off:
            team = cd[team_off:cd.index(b"\0", team_off)].decode()
    page = 1 << page_shift
    bad = []
    for i in range(ncode):
        chunk = data[i * page:min((i + 1) * page, code_limit)]
        want = cd[hash_off + i * hash_size:hash_off + (i + 1) * hash_size]
        if hashlib.sha256(chunk).digest() != want:
            bad.append(i)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "codedirectory.bin"), "wb") as f:
        f.write(cd)
    report.update(
        identifier=cd[ident_off:cd.index(b"\0", ident_off)].decode(),
        team=team,
        flags=flags,
        code_limit=code_limit,
        signature_offset=dataoff,
        pages=ncode,
        page_size=page,
        bad_pages=bad,
        cms=False,
        timestamp=False,
    )
    if CSSLOT_SIGNATURESLOT in slots:
        w = slots[CSSLOT_SIGNATURESLOT]
        wmagic, wlen = struct.unpack_from(">II", blob, w)
        assert wmagic == CSMAGIC_BLOBWRAPPER
        cms = blob[w + 8:w + wlen]
        if cms:
            report["cms"] = True
            with open(os.path.join(out_dir, "cms.der"), "wb") as f:
                f.write(cms)
            signature, token = cms_signature_and_token(cms)
            report["signature_sha256"] = hashlib.sha256(signature).hexdigest()
            if token is not None:
                report["timestamp"] = True
                with open(os.path.join(out_dir, "timestamp.der"), "wb") as f:
                    f.write(token)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
