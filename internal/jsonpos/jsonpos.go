// Package jsonpos places the errors of encoding/json in the text they
// came from, at the line and column an editor shows, so that a mistake in
// a long request body, definition or file can be found.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// Position returns the line and column, both counted from 1, of the byte
// at offset off of text; the column counts characters. An offset at or
// past the end is the place after text's last character.
func Position(text []byte, off int) (line, col int) {
	before := text[:max(0, min(off, len(text)))]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, col
}

// Locate returns the line and column of the byte at which decoding
// text[skip:] stopped with err, a *json.SyntaxError or an error that
// wraps one; ok is false for any other error.
func Locate(text []byte, skip int, err error) (line, col int, ok bool) {
	se := syntaxIn(text, skip, err)
	if se == nil {
		return 0, 0, false
	}
	line, col = Position(text, skip+int(se.Offset)-1)
	return line, col, true
}

// syntaxIn is err's *json.SyntaxError for a place within text[skip:];
// nil for any other error, and for text cut short.
func syntaxIn(text []byte, skip int, err error) *json.SyntaxError {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset < 1 || int(se.Offset) > len(text)-skip || cutShort(err) {
		return nil
	}
	return se
}

// Describe says what is wrong with text when decoding text[skip:] ended
// with err (encoding/json's error, or one that wraps it): a syntax error
// with its line and column ("invalid character 'x' after object
// key:value pair (line 3, column 7)"), or text cut short
// ("the JSON ends before its last value is complete (line 2, column 17,
// the end)", the end being where its last character is, not after the
// line breaks that follow). ok is false for any other error.
func Describe(text []byte, skip int, err error) (msg string, ok bool) {
	if cutShort(err) {
		end := len(bytes.TrimRightFunc(text, unicode.IsSpace))
		line, col := Position(text, end)
		return fmt.Sprintf("the JSON ends before its last value is complete (line %d, column %d, the end)", line, col), true
	}
	se := syntaxIn(text, skip, err)
	if se == nil {
		return "", false
	}
	line, col := Position(text, skip+int(se.Offset)-1)
	return fmt.Sprintf("%s (line %d, column %d)", se, line, col), true
}

// NotUTF8 describes the first byte of text that is not part of UTF-8
// text ("byte 0xFF at line 2, column 7"), which encoding/json would take
// for U+FFFD, changing the text; ok is false when all of text is UTF-8.
func NotUTF8(text []byte) (msg string, ok bool) {
	i, ok := InvalidUTF8(text)
	if !ok {
		return "", false
	}
	line, col := Position(text, i)
	return fmt.Sprintf("byte 0x%02X at line %d, column %d", text[i], line, col), true
}

// InvalidUTF8 returns the offset of the first byte of text that is not
// part of UTF-8 text; ok is false when all of text is UTF-8.
func InvalidUTF8(text []byte) (offset int, ok bool) {
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n == 1 {
			return i, true
		}
		i += n
	}
	return 0, false
}

// cutShort reports whether err is encoding/json's error for text that
// ends within a value: io.ErrUnexpectedEOF from a json.Decoder, a
// *json.SyntaxError from json.Unmarshal.
func cutShort(err error) bool {
	var se *json.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &se) && se.Error() == "unexpected end of JSON input"
}

// LoneSurrogate reports whether the JSON text has a \u escape of a UTF-16
// surrogate that is not half of a pair (`"\ud800"`), which encoding/json
// decodes as U+FFFD: two such strings would then be one.
func LoneSurrogate(text []byte) bool {
	high := false // the escape before was a high surrogate's
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			if high {
				return true
			}
			continue
		}
		if i+1 >= len(text) || text[i+1] != 'u' {
			if high {
				return true
			}
			i++ // an escaped character, perhaps a backslash
			continue
		}
		u, ok := hex4(text[i+2:])
		if !ok {
			return false // not JSON; its decoder says so
		}
		i += 5
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if high {
				return true
			}
			high = true
		case u >= 0xDC00 && u < 0xE000:
			if !high {
				return true
			}
			high = false
		default:
			if high {
				return true
			}
		}
	}
	return high
}

// hex4 reads the four hexadecimal digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
