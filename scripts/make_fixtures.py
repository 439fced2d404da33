#!/usr/bin/env python3
"""Writes test/fixtures/files/: small .npy/.npz/JSON files made by NumPy itself, plus expected.json with NumPy's
own values and statistics, which test/unit/{npy,npz,json,matrixFile,inspectCli}.test.ts compare against.

Run: python3 scripts/make_fixtures.py   (needs numpy; the outputs are committed, numpy is not a runtime dependency)
Statistics follow `inspect --json`: min/max/mean ignore NaN (np.nanmin, np.nanmax, np.nanmean), non-finite
results are written as null, and nan/inf count the non-finite elements.
"""
import io
import json
import math
import os
import struct
import zipfile

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'files')
os.makedirs(os.path.join(OUT, 'bad'), exist_ok=True)
os.makedirs(os.path.join(OUT, 'regressions'), exist_ok=True)
expected = {}


def fin(x):
    x = float(x)
    return x if math.isfinite(x) else None


def values(a):
    """C-order values as JSON: floats as numbers (NaN/Inf as strings), 64-bit ints as strings (exact), bools as 0/1."""
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == 'f':
        return [float(x) if math.isfinite(x) else str(float(x)) for x in flat.astype(np.float64)]
    if a.dtype.kind in 'iu' and a.dtype.itemsize == 8:
        return [str(int(x)) for x in flat]
    return [int(x) for x in flat]


def stats(a):
    f = a.astype(np.float64).reshape(-1)
    nan = int(np.isnan(f).sum())
    inf = int(np.isinf(f).sum())
    ok = f[~np.isnan(f)]
    if ok.size == 0:
        return {'min': None, 'max': None, 'mean': None, 'nan': nan, 'inf': inf}
    if a.dtype.kind in 'iu' and a.dtype.itemsize == 8:
        mn, mx = str(int(a.min())), str(int(a.max()))  # exact
    else:
        mn, mx = fin(ok.min()), fin(ok.max())
    with np.errstate(invalid='ignore'):
        mean = fin(np.mean(ok))
    return {'min': mn, 'max': mx, 'mean': mean, 'nan': nan, 'inf': inf}


NAMES = {'f': 'float', 'i': 'int', 'u': 'uint', 'b': 'bool'}


def dtype_name(dt):
    return 'bool' if dt.kind == 'b' else f'{NAMES[dt.kind]}{dt.itemsize * 8}'


def record(name, a, fortran=False, version=None, note=None):
    expected[name] = {
        'shape': list(a.shape), 'dtype': dtype_name(a.dtype), 'fortran_order': bool(fortran),
        'values': values(a), **stats(a),
    }
    if version:
        expected[name]['version'] = version
    if note:
        expected[name]['note'] = note


def save(name, a, **kw):
    np.save(os.path.join(OUT, name), a)
    record(name, a, fortran=a.flags.f_contiguous and not a.flags.c_contiguous, version='1.0', **kw)


base = np.array([[0.5, -1.25, 3.0, 100.0], [-7.5, 0.0, 2.0 ** -10, 1e3], [42.0, -0.125, 9.0, 6.5]])
ints = np.array([[0, 1, -1, 7], [100, -100, 12, -12], [127, -128, 3, 5]])

# Every dtype in both byte orders (one-byte types have no order: '|').
for code in ['f2', 'f4', 'f8']:
    for order, tag in [('<', 'le'), ('>', 'be')]:
        save(f'{code}_{tag}.npy', base.astype(order + code))
for code, lo, hi in [('i2', -32768, 32767), ('i4', -2 ** 31, 2 ** 31 - 1), ('i8', -2 ** 63, 2 ** 63 - 1),
                     ('u2', 0, 65535), ('u4', 0, 2 ** 32 - 1), ('u8', 0, 2 ** 64 - 1)]:
    for order, tag in [('<', 'le'), ('>', 'be')]:
        a = np.abs(ints) if code[0] == 'u' else ints.copy()
        a = a.astype(order + code)
        a[0, 0] = lo
        a[2, 3] = hi
        save(f'{code}_{tag}.npy', a)
save('i1.npy', ints.astype('i1'))
save('u1.npy', np.abs(ints).astype('u1') + np.uint8(100))
save('b1.npy', np.array([[True, False, True], [False, False, True]]))

# Special values: NaN, ±Inf, -0, float16 subnormals and extremes.
save('f2_special.npy', np.array([np.nan, np.inf, -np.inf, -0.0, 6.0e-8, 6.1e-5, 65504.0, -65504.0, 1 / 3, 0.1], dtype='<f2'))
save('f4_nan.npy', np.array([[1.0, np.nan, 3.0], [np.inf, -2.0, np.nan]], dtype='<f4'))
save('f8_allnan.npy', np.array([np.nan, np.nan]))

# float16: every bit pattern, and NumPy's own float32 widening of it; and float32 → float16 rounding cases.
np.save(os.path.join(OUT, 'f2_all.npy'), np.arange(65536, dtype='<u2').view('<f2'))
np.save(os.path.join(OUT, 'f2_all_as_f4.npy'), np.arange(65536, dtype='<u2').view('<f2').astype('<f4'))
halfway = (np.arange(0, 2048, dtype=np.float32) + 0.5) * np.float32(2.0 ** -10)  # ties between float16 neighbours
edges = np.array([65519.0, 65520.0, 65504.0, 1e5, -1e5, 2 ** -24, 2 ** -25, 2 ** -26, 3 * 2 ** -26, 1e-9, -0.0,
                  np.nan, np.inf, -np.inf], dtype=np.float32)
rng16 = np.random.default_rng(99)
src = np.concatenate([halfway, edges, rng16.normal(scale=100, size=500).astype(np.float32),
                      rng16.normal(scale=1e-5, size=200).astype(np.float32)])
np.save(os.path.join(OUT, 'f2_round_src_f4.npy'), src)
with np.errstate(over='ignore'):  # 1e5 → inf is one of the cases
    np.save(os.path.join(OUT, 'f2_round_dst.npy'), src.astype('<f2'))

# Fortran order (2-D, 3-D, and big-endian int64) next to the same arrays in C order.
f3 = np.arange(24, dtype='<f4').reshape(2, 3, 4) * 0.5 - 3
save('fortran_f4.npy', np.asfortranarray(f3))
save('fortran_2d_f8.npy', np.asfortranarray(base))
save('fortran_i8_be.npy', np.asfortranarray(ints.astype('>i8')))

# 0-d and empty arrays.
save('scalar_f8.npy', np.array(3.5))
save('empty_f4.npy', np.zeros((0,), dtype='<f4'))
save('empty_2x0x3.npy', np.zeros((2, 0, 3), dtype='<f4'))

# A small [L, H, n, n] attention dump for slicing.
rng = np.random.default_rng(1234)
dump = rng.random((2, 3, 4, 5)).astype('<f4')
save('dump_2x3x4x5.npy', dump)
for l in range(2):
    for h in range(3):
        record(f'dump_2x3x4x5.npy[{l},{h}]', dump[l, h])

# Format versions 2.0 and 3.0 exactly as numpy writes them.
for ver in [(2, 0), (3, 0)]:
    name = f'v{ver[0]}_f4.npy'
    with open(os.path.join(OUT, name), 'wb') as f:
        npformat.write_array(f, base.astype('<f4'), version=ver)
    record(name, base.astype('<f4'), version=f'{ver[0]}.0')


def legacy_v1(name, a, header):
    """A format 1.0 file with a header padded to 16 bytes, as numpy wrote before 1.14 (and Python 2's 3L ints)."""
    pre = b'\x93NUMPY\x01\x00'
    h = header.encode('latin1')
    total = len(pre) + 2 + len(h) + 1
    pad = (16 - total % 16) % 16
    h = h + b' ' * pad + b'\n'
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(pre + struct.pack('<H', len(h)) + h + a.tobytes())
    record(name, a, version='1.0', note='16-byte padded legacy header')


legacy_v1('legacy16_i4.npy', ints.astype('<i4'), "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }")
legacy_v1('legacy_py2_f8.npy', base, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }")

# .npz, stored (savez) and deflated (savez_compressed), mixed dtypes.
q = rng.normal(size=(6, 8)).astype('<f4')
k = rng.normal(size=(9, 8)).astype('<f4')
v = rng.normal(size=(9, 4)).astype('<f8')
labels = np.arange(9, dtype='<i8')
np.savez(os.path.join(OUT, 'bundle_stored.npz'), q=q, k=k, v=v, ids=labels)
np.savez_compressed(os.path.join(OUT, 'bundle_deflated.npz'), q=q, k=k, v=v, ids=labels, fdump=np.asfortranarray(f3))
for arc in ['bundle_stored.npz', 'bundle_deflated.npz']:
    for n, a in [('q', q), ('k', k), ('v', v), ('ids', labels)]:
        record(f'{arc}#{n}', a)
record('bundle_deflated.npz#fdump', np.asfortranarray(f3), fortran=True)
np.savez_compressed(os.path.join(OUT, 'single.npz'), only=base.astype('<f4'))
record('single.npz#only', base.astype('<f4'))
save('weights_6x9.npy', (np.ones((6, 9)) / 9).astype('<f4'))

# JSON: plain arrays of 1 to 4 dimensions, a spec with refs to the binary fixtures, and bad ones.
def write_json(name, obj, indent=None):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=indent)
        f.write('\n')


m1 = [0.25, -1.5, 3.0]
m2 = base.tolist()
m3 = (np.arange(12).reshape(2, 3, 2) * 0.5).tolist()
m4 = dump[:, :, :2, :2].astype(np.float64).tolist()
for name, m in [('plain_1d.json', m1), ('plain_2d.json', m2), ('plain_3d.json', m3), ('plain_4d.json', m4)]:
    write_json(name, m, indent=1)
    record(name, np.array(m, dtype=np.float64))
write_json('manifest.attention.json', {
    'description': 'Q and K from the stored bundle, V from a .npy',
    'Q': 'bundle_stored.npz#q', 'K': 'bundle_stored.npz#k.npy', 'V': 'bundle_deflated.npz#v', 'attention': 'weights_6x9.npy',
    'similarity': 'dot', 'scale': 'sqrt',
}, indent=2)
write_json('inline.attention.json', {
    'Q': [[1, 0, 0.5], [0, 1, 0.25]], 'K': [[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 1]],
    'V': [[1, 0], [1, 0], [0, 1], [0, 1]], 'mask': 'causal', 'scale': 0.5, 'similarity': 'cosine', 'heads': 1,
    'queryLabels': ['a', 'b'], 'keyLabels': ['#ff0000', '#00ff00', '#0000ff', 'end'], 'valueLabels': ['warm', 'cool'],
    'attention': [[0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25]],
}, indent=2)
# Bad JSON, each with the position of the problem (1-based line and column) written by hand in expected.json.
with open(os.path.join(OUT, 'bad', 'ragged.json'), 'w') as f:
    f.write('[\n  [1, 2, 3],\n  [4, 5],\n  [7, 8, 9]\n]\n')
with open(os.path.join(OUT, 'bad', 'not_number.attention.json'), 'w') as f:
    f.write('{\n  "Q": [[1, 2], [3, "x"]],\n  "K": [[1, 2]]\n}\n')
with open(os.path.join(OUT, 'bad', 'width_mismatch.attention.json'), 'w') as f:
    f.write('{\n  "Q": [[1, 2, 3]],\n  "K": [[1, 2], [3, 4]]\n}\n')
with open(os.path.join(OUT, 'bad', 'empty.json'), 'w') as f:
    f.write('[[]]\n')
with open(os.path.join(OUT, 'bad', 'syntax.json'), 'w') as f:
    f.write('[[1, 2],\n [3, 4,]]\n')

# Bad binary files: each must be refused with a message naming the problem.
np.save(os.path.join(OUT, 'bad', 'object.npy'), np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
np.save(os.path.join(OUT, 'bad', 'complex.npy'), np.array([1 + 2j, 3j]))
np.save(os.path.join(OUT, 'bad', 'unicode.npy'), np.array(['ab', 'cde']))
np.save(os.path.join(OUT, 'bad', 'structured.npy'), np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
good = open(os.path.join(OUT, 'f4_le.npy'), 'rb').read()
with open(os.path.join(OUT, 'bad', 'truncated.npy'), 'wb') as f:
    f.write(good[:-5])
with open(os.path.join(OUT, 'bad', 'huge_shape.npy'), 'wb') as f:
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"
    h = h + ' ' * (118 - len(h)) + '\n'
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + b'\0' * 64)
with open(os.path.join(OUT, 'bad', 'extra_key.npy'), 'wb') as f:
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'evil': __import__('os'), }"
    h = h + ' ' * (118 - len(h)) + '\n'
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + b'\0' * 8)
with open(os.path.join(OUT, 'bad', 'long_header.npy'), 'wb') as f:
    f.write(b'\x93NUMPY\x02\x00' + struct.pack('<I', 20000) + b' ' * 20000)
with open(os.path.join(OUT, 'bad', 'not_npy.npy'), 'wb') as f:
    f.write(b'hello, this is not an array\n')
# A zip bomb: a member whose header says 16 float64 and whose zip entry declares 256 bytes, but that inflates to 10 MB.
bomb = io.BytesIO()
with zipfile.ZipFile(bomb, 'w', compression=zipfile.ZIP_DEFLATED) as z:
    member = io.BytesIO()
    np.save(member, np.zeros(16))  # a valid header and 128 bytes of data, then 10 MB of zeros that deflate to little
    info = zipfile.ZipInfo('a.npy', date_time=(2020, 1, 1, 0, 0, 0))  # a fixed date: the same bytes on every run
    z.writestr(info, member.getvalue() + b'\0' * (10 << 20), compress_type=zipfile.ZIP_DEFLATED)
raw = bytearray(bomb.getvalue())
# Patch the declared uncompressed size (central directory offset 24) of the only entry.
cd = raw.rfind(b'PK\x01\x02')
raw[cd + 24:cd + 28] = struct.pack('<I', 256)
with open(os.path.join(OUT, 'bad', 'bomb.npz'), 'wb') as f:
    f.write(bytes(raw))


def zip64_stored(name, members):
    """An .npz whose central directory keeps sizes and offsets only in zip64 extra fields, with a zip64 end record:
    what a writer of >4 GiB archives produces (numpy's own small files only use zip64 in local headers)."""
    out = bytearray()
    central = bytearray()
    for mname, a in members:
        buf = io.BytesIO()
        np.save(buf, a)
        data = buf.getvalue()
        crc = zipfile.crc32(data) if hasattr(zipfile, 'crc32') else __import__('zlib').crc32(data)
        fname = mname.encode()
        offset = len(out)
        z64_local = struct.pack('<HHQQ', 1, 16, len(data), len(data))
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0x21, crc, 0xffffffff, 0xffffffff, len(fname), len(z64_local))
        out += fname + z64_local + data
        z64 = struct.pack('<HHQQQ', 1, 24, len(data), len(data), offset)
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc, 0xffffffff, 0xffffffff,
                               len(fname), len(z64), 0, 0, 0, 0, 0xffffffff)
        central += fname + z64
    cd_offset = len(out)
    out += central
    z64_end = len(out)
    n = len(members)
    out += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    out += struct.pack('<IIQI', 0x07064b50, 0, z64_end, 1)
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(bytes(out))
    with zipfile.ZipFile(os.path.join(OUT, name)) as z:  # Python's zipfile must read it back
        assert [i.filename for i in z.infolist()] == [m + '' for m, _ in members]
    for mname, a in members:
        record(f'{name}#{mname[:-4]}', a)


zip64_stored('zip64_cd.npz', [('a.npy', base.astype('<f4')), ('b.npy', ints.astype('>i2'))])

with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump({'numpy': np.__version__, 'files': expected}, f, indent=1, sort_keys=True)
    f.write('\n')
total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
print(f'wrote {len(expected)} expectations, {total} bytes in test/fixtures/files')
