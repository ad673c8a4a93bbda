package health

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestReadPlainHead(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
		want     head
	}{
		{"net/http server", "HTTP/1.1 200 OK\r\nDate: Mon, 23 Nov 2026 15:00:00 GMT\r\nContent-Length: 3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok\n", true, head{200, 3, false}},
		{"no reason", "HTTP/1.1 503\r\ncontent-length: 0\r\n\r\n", true, head{503, 0, false}},
		{"close", "HTTP/1.1 302 Found\r\nLocation: /x\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", true, head{302, 0, true}},
		{"204 without length", "HTTP/1.1 204 No Content\r\n\r\n", true, head{204, 0, false}},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok\n\r\n0\r\n\r\n", false, head{}},
		{"until close", "HTTP/1.1 200 OK\r\n\r\nok", false, head{}},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, head{}},
		{"early hints", "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, head{}},
		{"incomplete", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", false, head{}},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", false, head{}},
		{"folded", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", false, head{}},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", false, head{}},
		{"bad code", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", false, head{}},
		{"not http", "SSH-2.0-OpenSSH_9.6\r\n\r\n", false, head{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 4096)
			h, ok, err := readPlainHead(br)
			if err != nil || ok != tc.ok || ok && h != tc.want {
				t.Fatalf("readPlainHead = %+v %v %v, want %+v %v", h, ok, err, tc.want, tc.ok)
			}
			if !ok && br.Buffered() != len(tc.in) {
				t.Fatalf("consumed %d bytes without reading the head", len(tc.in)-br.Buffered())
			}
		})
	}
}

// Whatever readPlainHead reads, net/http reads the same way: status, length, close and where the
// body starts.
func FuzzReadPlainHead(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nDate: Mon, 23 Nov 2026 15:00:00 GMT\r\nContent-Length: 3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok\n"))
	f.Add([]byte("HTTP/1.1 302 Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4096 {
			return
		}
		br := bufio.NewReaderSize(bytes.NewReader(in), 4096)
		h, ok, err := readPlainHead(br)
		if err != nil || !ok {
			return
		}
		ref := bufio.NewReaderSize(bytes.NewReader(in), 4096)
		resp, err := http.ReadResponse(ref, nil)
		if err != nil {
			t.Fatalf("readPlainHead read %+v, net/http: %v", h, err)
		}
		length := resp.ContentLength
		if resp.StatusCode == 204 || resp.StatusCode == 304 {
			length = 0
		}
		if resp.StatusCode != h.code || length != int64(h.contentLength) || resp.Close != h.close {
			t.Fatalf("readPlainHead read %+v, net/http %d, length %d, close %v", h, resp.StatusCode, length, resp.Close)
		}
		if br.Buffered() != ref.Buffered() {
			t.Fatalf("readPlainHead left %d bytes, net/http %d", br.Buffered(), ref.Buffered())
		}
	})
}
