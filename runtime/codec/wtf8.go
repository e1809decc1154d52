package codec

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// JS strings are sequences of UTF-16 code units that may hold lone
// surrogates, which UTF-8 cannot express. The codec writes them as WTF-8:
// UTF-8, except that a lone surrogate is written as its 3-byte generalized
// UTF-8 form (ED A0..BF 80..BF). A well-formed string is therefore plain
// UTF-8, and only strings with lone surrogates take the slow path.

var errBadWTF8 = errors.New("codec: invalid WTF-8 in string")

// appendJSString appends s as uvarint byte length + WTF-8.
func appendJSString(b []byte, s goja.String) []byte {
	str := s.String() // free for ASCII and Go-imported strings
	if isASCII(str) || utf8.ValidString(str) && !strings.Contains(str, "\uFFFD") {
		// The UTF-8 form is exact: lone surrogates would have become U+FFFD.
		return appendStr(b, str)
	}
	n := s.Length()
	size := 0
	for i := 0; i < n; i++ {
		c := s.CharAt(i)
		switch {
		case c < 0x80:
			size++
		case c < 0x800:
			size += 2
		case utf16.IsSurrogate(rune(c)) && c < 0xDC00 && i+1 < n && isLowSurrogate(s.CharAt(i+1)):
			size += 4
			i++
		default:
			size += 3
		}
	}
	b = appendUvarint(b, uint64(size))
	for i := 0; i < n; i++ {
		r := rune(s.CharAt(i))
		if r >= 0xD800 && r < 0xDC00 && i+1 < n {
			if c2 := s.CharAt(i + 1); isLowSurrogate(c2) {
				r = utf16.DecodeRune(r, rune(c2))
				i++
			}
		}
		if utf16.IsSurrogate(r) {
			b = append(b, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

func isLowSurrogate(c uint16) bool { return c >= 0xDC00 && c <= 0xDFFF }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsString converts WTF-8 bytes to a JS string of vm.
func jsString(vm *goja.Runtime, b []byte) (goja.Value, error) {
	if utf8.Valid(b) {
		return vm.ToValue(string(b)), nil
	}
	u, err := wtf8ToUTF16(b)
	if err != nil {
		return nil, err
	}
	return goja.StringFromUTF16(u), nil
}

// wtf8ToUTF16 decodes strict WTF-8: an encoded high surrogate directly
// followed by an encoded low surrogate is rejected, since that pair must be
// written as one 4-byte sequence.
func wtf8ToUTF16(b []byte) ([]uint16, error) {
	u := make([]uint16, 0, len(b))
	prevHigh := false
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if b[i] != 0xED || i+3 > len(b) || b[i+1]&0xE0 != 0xA0 || b[i+2]&0xC0 != 0x80 {
				return nil, errBadWTF8
			}
			c := 0xD000 | uint16(b[i+1]&0x3F)<<6 | uint16(b[i+2]&0x3F)
			if prevHigh && c >= 0xDC00 {
				return nil, errBadWTF8
			}
			u = append(u, c)
			prevHigh = c < 0xDC00
			i += 3
			continue
		}
		prevHigh = false
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			u = append(u, uint16(r1), uint16(r2))
		} else {
			u = append(u, uint16(r))
		}
		i += size
	}
	return u, nil
}

// keyString converts WTF-8 key bytes to a Go string usable with goja's
// string-keyed API; ok is false when the key holds a lone surrogate and must
// go through the JS helper.
func keyString(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), true
	}
	return "", false
}
