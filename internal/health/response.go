package health

import (
	"bufio"
	"bytes"
)

// head is what an HTTP check needs of a response head.
type head struct {
	code          int
	contentLength int // of the body; 0 for 204 and 304
	close         bool
}

// readPlainHead is the fast path of reading a response head, without allocating: when the head
// is complete in br's buffer (after at most one read) and plain, it consumes it and returns ok.
// Plain is: "HTTP/1.1", a final status (not 1xx), a body delimited by Content-Length (or none, for
// 204 and 304), no Transfer-Encoding, and lines that net/http reads the same way. Otherwise it
// consumes nothing and the caller reads the head with http.ReadResponse, which also words the
// errors. A read error is returned as is.
func readPlainHead(br *bufio.Reader) (h head, ok bool, err error) {
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			return h, false, err
		}
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return h, false, nil
	}
	lines := buf[:end+2]

	// The status line: "HTTP/1.1 200 OK" or "HTTP/1.1 200".
	line, lines, ok := nextLine(lines)
	if !ok || len(line) < 12 || string(line[:9]) != "HTTP/1.1 " || len(line) > 12 && line[12] != ' ' || !validHeaderValue(line) {
		return h, false, nil
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return h, false, nil
		}
		h.code = h.code*10 + int(c-'0')
	}
	if h.code < 200 {
		return h, false, nil
	}

	h.contentLength = -1
	for len(lines) > 0 {
		var line []byte
		if line, lines, ok = nextLine(lines); !ok {
			return h, false, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !validHeaderName(line[:colon]) {
			return h, false, nil
		}
		key, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		if !validHeaderValue(value) {
			return h, false, nil
		}
		switch {
		case equalFold(key, "Content-Length"):
			if h.contentLength >= 0 || len(value) == 0 || len(value) > 9 {
				return h, false, nil
			}
			h.contentLength = 0
			for _, c := range value {
				if c < '0' || c > '9' {
					return h, false, nil
				}
				h.contentLength = h.contentLength*10 + int(c-'0')
			}
		case equalFold(key, "Transfer-Encoding"):
			return h, false, nil
		case equalFold(key, "Connection"):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				if equalFold(bytes.Trim(tok, " \t"), "close") {
					h.close = true
				}
			}
		}
	}
	if h.code == 204 || h.code == 304 {
		h.contentLength = 0
	} else if h.contentLength < 0 {
		return h, false, nil // the body runs to the end of the connection
	}
	br.Discard(end + 4)
	return h, true, nil
}

// nextLine cuts the first line off lines, which ends with "\r\n": ok is false when a line ends
// with a bare "\n".
func nextLine(lines []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(lines, '\n')
	if i < 1 || lines[i-1] != '\r' {
		return nil, nil, false
	}
	return lines[:i-1], lines[i+1:], true
}

// equalFold reports whether b equals the ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != s[i]|0x20 {
			return false
		}
	}
	return true
}
