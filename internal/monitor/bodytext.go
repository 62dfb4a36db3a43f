package monitor

import (
	"bytes"
	"fmt"

	"github.com/stepmon/stepmon/internal/jsonpos"
)

// UTF16Fix tells the sender of a UTF-16 body how to send the UTF-8 JSON
// that requests take: Windows PowerShell 5's Out-File and > write
// UTF-16LE.
const UTF16Fix = "save it as UTF-8 (in PowerShell 5: Out-File -Encoding utf8)"

// utf8Fix tells the sender of a body in another 8-bit encoding (Latin-1,
// Windows-1252) how to send the UTF-8 JSON that requests take.
const utf8Fix = "JSON is UTF-8 text; save it as UTF-8"

// utf8BOM is the UTF-8 byte order mark, which Notepad and PowerShell 5's
// Out-File -Encoding utf8 put before the text.
var utf8BOM = []byte("\xef\xbb\xbf")

// DropByteOrderMark returns body, a request's JSON, without a leading UTF-8
// byte order mark: the mark is no part of the JSON, and a file saved on
// Windows often starts with one. It reports isUTF16 instead when body is
// UTF-16: it starts with a UTF-16 byte order mark, or one of its first
// two bytes is NUL, as in UTF-16 text of ASCII without a mark (JSON in
// UTF-8 has no NUL byte). The caller refuses such a body, naming UTF16Fix.
func DropByteOrderMark(body []byte) (rest []byte, isUTF16 bool) {
	switch {
	case bytes.HasPrefix(body, []byte("\xff\xfe")), bytes.HasPrefix(body, []byte("\xfe\xff")):
		return body, true
	case len(body) >= 2 && (body[0] == 0 || body[1] == 0):
		return body, true
	}
	return bytes.TrimPrefix(body, utf8BOM), false
}

// notUTF8 refuses body, a request's JSON, when it is not UTF-8 text (a
// file saved in Latin-1 or Windows-1252), naming the first byte that is
// not; nil when it is.
func notUTF8(op string, body []byte) error {
	if i, bad := jsonpos.InvalidUTF8(body); bad {
		return &Error{Kind: KindInvalid, Op: op,
			Message: fmt.Sprintf("request body is not UTF-8 (byte 0x%02X at offset %d): %s", body[i], i, utf8Fix)}
	}
	return nil
}
