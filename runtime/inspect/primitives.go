package inspect

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// Styles of Node's inspect.styles.
type style uint8

const (
	styleSpecial style = iota
	styleNumber
	styleBoolean
	styleUndefined
	styleNull
	styleString
	styleSymbol
	styleDate
	styleRegexp
)

// sgr returns the ANSI escape sequences of a style (Node's inspect.colors).
func (s style) sgr() (open, close string) {
	switch s {
	case styleSpecial:
		return "\x1b[36m", "\x1b[39m"
	case styleNumber, styleBoolean:
		return "\x1b[33m", "\x1b[39m"
	case styleUndefined:
		return "\x1b[90m", "\x1b[39m"
	case styleNull:
		return "\x1b[1m", "\x1b[22m"
	case styleString, styleSymbol:
		return "\x1b[32m", "\x1b[39m"
	case styleDate:
		return "\x1b[35m", "\x1b[39m"
	case styleRegexp:
		return "\x1b[31m", "\x1b[39m"
	}
	return "", ""
}

func (c *inspector) stylize(s string, st style) string {
	if !c.opts.Colors {
		return s
	}
	open, close := st.sgr()
	return open + s + close
}

func appendStyled(buf []byte, s string, st style, colors bool) []byte {
	if !colors {
		return append(buf, s...)
	}
	open, close := st.sgr()
	buf = append(buf, open...)
	buf = append(buf, s...)
	return append(buf, close...)
}

var boolType = reflect.TypeOf(true)

// appendPrimitive is Node's formatPrimitive: it appends the rendering of a
// non-object value (strings quoted) at the given indentation.
func appendPrimitive(buf []byte, v goja.Value, s *Options, indentationLvl int) []byte {
	switch {
	case v == nil || goja.IsUndefined(v):
		return appendStyled(buf, "undefined", styleUndefined, s.Colors)
	case goja.IsNull(v):
		return appendStyled(buf, "null", styleNull, s.Colors)
	}
	switch x := v.(type) {
	case goja.String:
		return appendString(buf, x, s, indentationLvl)
	case *goja.Symbol:
		return appendStyled(buf, symbolString(x), styleSymbol, s.Colors)
	}
	switch {
	case goja.IsNumber(v):
		return appendStyled(buf, numberString(v), styleNumber, s.Colors)
	case goja.IsBigInt(v):
		return appendStyled(buf, v.String()+"n", styleNumber, s.Colors)
	case v.ExportType() == boolType:
		return appendStyled(buf, v.String(), styleBoolean, s.Colors)
	}
	return append(buf, v.String()...)
}

// numberString formats a number as JavaScript does, but -0 as "-0".
func numberString(v goja.Value) string {
	if f := v.ToFloat(); f == 0 && math.Signbit(f) {
		return "-0"
	}
	return v.String()
}

func symbolString(s *goja.Symbol) string {
	return "Symbol(" + s.String() + ")"
}

// units returns s as a Go string and, if it may contain lone surrogates
// (which that string cannot hold), its UTF-16 code units as runes with the
// lone surrogates kept as such.
func units(s goja.String) (string, []rune) {
	str := s.String()
	if !strings.ContainsRune(str, utf8.RuneError) {
		return str, nil
	}
	n := s.Length()
	res := make([]rune, 0, n)
	for i := 0; i < n; i++ {
		c := s.CharAt(i)
		if utf16.IsSurrogate(rune(c)) && c < 0xdc00 && i+1 < n {
			if d := s.CharAt(i + 1); d >= 0xdc00 && d <= 0xdfff {
				res = append(res, utf16.DecodeRune(rune(c), rune(d)))
				i++
				continue
			}
		}
		res = append(res, rune(c))
	}
	return str, res
}

func appendString(buf []byte, v goja.String, s *Options, indentationLvl int) []byte {
	str, runes := units(v)
	length := v.Length()
	trailer := ""
	if length > s.MaxStringLength {
		if runes == nil {
			runes = []rune(str)
		}
		runes = truncateUnits(runes, s.MaxStringLength)
		remaining := length - s.MaxStringLength
		length = s.MaxStringLength
		trailer = "... " + strconv.Itoa(remaining) + " more character"
		if remaining > 1 {
			trailer += "s"
		}
	}
	if length > 16 && length > s.BreakLength-indentationLvl-4 {
		// Long multi-line strings are split after each line break.
		text := str
		if runes != nil {
			text = string(runes)
		}
		trimmed := strings.TrimSuffix(text, "\n")
		if lines := strings.SplitAfter(trimmed, "\n"); len(lines) > 1 {
			if len(trimmed) < len(text) {
				lines[len(lines)-1] += "\n"
			}
			sep := " +\n" + strings.Repeat(" ", indentationLvl+2)
			for i, l := range lines {
				if i > 0 {
					buf = append(buf, sep...)
				}
				buf = appendStyled(buf, quote(l), styleString, s.Colors)
			}
			return append(buf, trailer...)
		}
	}
	if runes != nil {
		buf = appendStyled(buf, quoteRunes(runes), styleString, s.Colors)
	} else {
		buf = appendStyled(buf, quote(str), styleString, s.Colors)
	}
	return append(buf, trailer...)
}

// truncateUnits keeps the first n UTF-16 code units.
func truncateUnits(r []rune, n int) []rune {
	u := 0
	for i, c := range r {
		w := 1
		if c > 0xffff {
			w = 2
		}
		if u+w > n {
			return r[:i]
		}
		u += w
	}
	return r
}

// meta is Node's escape table for control characters, the quote and the backslash.
func meta(c rune) string {
	switch c {
	case '\b':
		return `\b`
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\f':
		return `\f`
	case '\r':
		return `\r`
	case '\'':
		return `\'`
	case '\\':
		return `\\`
	}
	if c < 0x100 {
		const hex = "0123456789ABCDEF"
		return `\x` + string(hex[c>>4]) + string(hex[c&15])
	}
	return `\u` + strconv.FormatInt(int64(c), 16) // lone surrogate
}

// needsEscape reports whether Node escapes c; q is the quote in use.
func needsEscape(c rune, q byte) bool {
	return c < 0x20 || (c == '\'' && q == '\'') || c == '\\' || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)
}

// quoteChar picks the quotes as Node's strEscape: single quotes unless the
// string contains one, then double quotes or backticks if possible.
func quoteChar(s string) byte {
	if !strings.Contains(s, "'") {
		return '\''
	}
	if !strings.Contains(s, `"`) {
		return '"'
	}
	if !strings.Contains(s, "`") && !strings.Contains(s, "${") {
		return '`'
	}
	return '\''
}

// quote is Node's strEscape of a well-formed string.
func quote(s string) string {
	q := quoteChar(s)
	clean := true
	for _, c := range s {
		if needsEscape(c, q) {
			clean = false
			break
		}
	}
	if clean {
		return string(q) + s + string(q)
	}
	return quoteRunes([]rune(s))
}

// quoteRunes is Node's strEscape of UTF-16 code units given as runes.
func quoteRunes(r []rune) string {
	q := quoteChar(string(r))
	var b strings.Builder
	b.Grow(len(r) + 2)
	b.WriteByte(q)
	for _, c := range r {
		if needsEscape(c, q) {
			b.WriteString(meta(c))
		} else {
			b.WriteRune(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// escapeAll escapes as Node's strEscapeSequencesReplacer, without quoting
// (used for symbol and non-enumerable keys).
func escapeAll(s string) string {
	var b strings.Builder
	for _, c := range s {
		if needsEscape(c, '\'') {
			b.WriteString(meta(c))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// jsLen is the length of s in UTF-16 code units (JavaScript's .length).
func jsLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n = 0
			for _, c := range s {
				n++
				if c > 0xffff {
					n++
				}
			}
			return n
		}
	}
	return n
}

// stripColors removes ANSI SGR sequences.
func stripColors(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// stringWidth is the number of terminal columns of s (Node's getStringWidth).
func stringWidth(s string, removeColors bool) int {
	if removeColors {
		s = stripColors(s)
	}
	w := 0
	for _, c := range s {
		switch {
		case c < 0x20:
		case c < 0x7f:
			w++
		case isZeroWidth(c):
		case isFullWidth(c):
			w += 2
		default:
			w++
		}
	}
	return w
}

func isZeroWidth(c rune) bool {
	return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0x300 && c <= 0x36f) ||
		(c >= 0x200b && c <= 0x200f) || (c >= 0x20d0 && c <= 0x20ff) ||
		(c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xfe20 && c <= 0xfe2f) ||
		(c >= 0xe0100 && c <= 0xe01ef)
}

func isFullWidth(c rune) bool {
	return c >= 0x1100 && (c <= 0x115f || c == 0x2329 || c == 0x232a ||
		(c >= 0x2e80 && c <= 0x3247 && c != 0x303f) ||
		(c >= 0x3250 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0xa4c6) ||
		(c >= 0xa960 && c <= 0xa97c) || (c >= 0xac00 && c <= 0xd7a3) ||
		(c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe10 && c <= 0xfe19) ||
		(c >= 0xfe30 && c <= 0xfe6b) || (c >= 0xff01 && c <= 0xff60) ||
		(c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1b000 && c <= 0x1b001) ||
		(c >= 0x1f200 && c <= 0x1f251) || (c >= 0x1f300 && c <= 0x1f64f) ||
		(c >= 0x1f680 && c <= 0x1f6ff) || (c >= 0x1f900 && c <= 0x1f9ff) ||
		(c >= 0x20000 && c <= 0x3fffd))
}
