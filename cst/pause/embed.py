#!/usr/bin/env python3
"""Writes a C file holding the bytes of a file: embed.py INPUT OUTPUT SYMBOL.

An empty INPUT gives an empty array (cst built without the pause program)."""
import sys


def main():
    src, dst, sym = sys.argv[1:4]
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'w', encoding='ascii') as out:
        out.write('/* Generated from %s by cst/pause/embed.py. */\n' % src.rsplit('/', 1)[-1])
        out.write('#include <stddef.h>\n\n')
        out.write('extern const unsigned char %s[];\n' % sym)
        out.write('extern const size_t %s_len;\n' % sym)
        out.write('const unsigned char %s[] = {\n' % sym)
        for i in range(0, len(data), 16):
            out.write('\t' + ', '.join(str(b) for b in data[i:i + 16]) + ',\n')
        if not data:
            out.write('\t0\n')
        out.write('};\n')
        out.write('const size_t %s_len = %d;\n' % (sym, len(data)))


if __name__ == '__main__':
    main()
