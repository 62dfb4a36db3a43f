package local

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// unsupportedEncodingError is a request body that API Gateway answers 415
// itself, before any function: its Content-Encoding names a coding other
// than gzip, deflate and identity, or more than one, or the body is not
// compressed with the coding it names.
type unsupportedEncodingError struct{ reason string }

func (e *unsupportedEncodingError) Error() string { return "unsupported content encoding: " + e.reason }

// readBody reads r's body as API Gateway hands it to a function: a body
// sent with Content-Encoding gzip or deflate (zlib, RFC 1950) is
// decompressed first, and limit bounds the body both as sent and as
// decompressed, so that a small body cannot unpack into a large one. A
// body over limit is an *http.MaxBytesError; a coding API Gateway does not
// take, or a body it cannot decompress, an *unsupportedEncodingError.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	coding, err := contentCoding(r.Header.Values("Content-Encoding"))
	if err != nil {
		return nil, err
	}
	body := http.MaxBytesReader(nil, r.Body, limit)
	var in io.Reader = body
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, decodeError(coding, err)
		}
		in = zr
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, decodeError(coding, err)
		}
		in = zr
	}
	b, err := io.ReadAll(io.LimitReader(in, limit+1))
	if err != nil {
		return nil, decodeError(coding, err)
	}
	if int64(len(b)) > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return b, nil
}

// contentCoding returns the one coding that the Content-Encoding header
// values name, "" for none or identity.
func contentCoding(values []string) (string, error) {
	coding := ""
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch {
			case c == "" || c == "identity":
			case c != "gzip" && c != "deflate":
				return "", &unsupportedEncodingError{fmt.Sprintf("%q is not gzip, deflate or identity", c)}
			case coding != "":
				return "", &unsupportedEncodingError{"more than one coding"}
			default:
				coding = c
			}
		}
	}
	return coding, nil
}

// decodeError is the error of reading a body sent with coding: the
// *http.MaxBytesError of a body over its limit as sent, else an
// *unsupportedEncodingError when the body is compressed (it is not what
// its coding says).
func decodeError(coding string, err error) error {
	var mbe *http.MaxBytesError
	if coding == "" || errors.As(err, &mbe) {
		return err
	}
	return &unsupportedEncodingError{fmt.Sprintf("the body is not %s data: %v", coding, err)}
}
