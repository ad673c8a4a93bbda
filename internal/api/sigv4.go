package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/failoverdns/failoverdns/internal/service"
)

// AWS's authentication error codes.
const (
	codeMissingAuthenticationToken = "MissingAuthenticationToken"
	codeIncompleteSignature        = "IncompleteSignature"
	codeInvalidClientTokenId       = "InvalidClientTokenId"
	codeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
)

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateForm  = "20060102T150405Z"
)

// authenticate verifies the request's SigV4 signature (Authorization header) against the
// configured access keys: any region in the credential scope, service route53, and a date within
// the clock-skew window. With no keys configured every request is accepted.
func (h *Route53) authenticate(r *http.Request, body []byte) error {
	if len(h.opts.AccessKeys) == 0 {
		return nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if r.URL.Query().Get("X-Amz-Signature") != "" {
			return &service.Error{Code: codeIncompleteSignature, Message: "presigned URLs are not supported; sign the request with an Authorization header"}
		}
		return &service.Error{Code: codeMissingAuthenticationToken, Message: "Missing Authentication Token: this server requires SigV4-signed requests (set the access key and secret the server is configured with)"}
	}
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != sigAlgorithm {
		return &service.Error{Code: codeIncompleteSignature, Message: fmt.Sprintf("Authorization header algorithm %q is not supported; use %s", alg, sigAlgorithm)}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	cred, signed, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if cred == "" || signed == "" || sig == "" {
		return &service.Error{Code: codeIncompleteSignature, Message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=" + auth}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return &service.Error{Code: codeIncompleteSignature, Message: fmt.Sprintf("Credential %q is malformed: want ACCESS_KEY_ID/YYYYMMDD/REGION/route53/aws4_request", cred)}
	}
	keyID, day, region, svc := scope[0], scope[1], scope[2], scope[3]
	secret, ok := h.opts.AccessKeys[keyID]
	if !ok {
		return &service.Error{Code: codeInvalidClientTokenId, Message: fmt.Sprintf("The security token included in the request is invalid: the access key id %s is not one this server is configured with", keyID)}
	}
	if svc != "route53" {
		return &service.Error{Code: codeSignatureDoesNotMatch, Message: fmt.Sprintf("Credential should be scoped to correct service: 'route53', not '%s'.", svc)}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	when, err := time.Parse(amzDateForm, amzDate)
	if err != nil {
		if when, err = http.ParseTime(r.Header.Get("Date")); err != nil {
			return &service.Error{Code: codeIncompleteSignature, Message: "the request has no valid X-Amz-Date header (YYYYMMDDTHHMMSSZ)"}
		}
		amzDate = when.UTC().Format(amzDateForm)
	}
	if day != amzDate[:8] {
		return &service.Error{Code: codeSignatureDoesNotMatch, Message: fmt.Sprintf("Credential should be scoped to a valid date: %s, not %s", amzDate[:8], day)}
	}
	now := h.opts.Now()
	if d := now.Sub(when); d > h.opts.ClockSkew || d < -h.opts.ClockSkew {
		return &service.Error{Code: codeSignatureDoesNotMatch, Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %v.) or later than %s; check the client's clock",
			amzDate, now.Add(-h.opts.ClockSkew).UTC().Format(amzDateForm), now.UTC().Format(amzDateForm), h.opts.ClockSkew, now.Add(h.opts.ClockSkew).UTC().Format(amzDateForm))}
	}
	signedHeaders := strings.Split(signed, ";")
	if !contains(signedHeaders, "host") {
		return &service.Error{Code: codeSignatureDoesNotMatch, Message: "the Host header must be signed"}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	} else if payload != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256(body)
		if payload != hex.EncodeToString(sum[:]) {
			return &service.Error{Code: codeSignatureDoesNotMatch, Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}
	key := signingKey(secret, day, region, svc)
	scopeStr := strings.Join(scope[1:], "/")
	// botocore normalizes the path (dot segments, empty segments); aws-sdk-go-v2 does not. A
	// signature over either form is accepted.
	for _, path := range []string{r.URL.EscapedPath(), normalizePath(r.URL.EscapedPath())} {
		creq := strings.Join([]string{r.Method, awsEscape(path, false), canonicalQuery(r.URL.RawQuery),
			canonicalHeaders(r, signedHeaders), signed, payload}, "\n")
		sum := sha256.Sum256([]byte(creq))
		sts := sigAlgorithm + "\n" + amzDate + "\n" + scopeStr + "\n" + hex.EncodeToString(sum[:])
		want := hex.EncodeToString(hmacSHA256(key, sts))
		if hmac.Equal([]byte(want), []byte(sig)) {
			return nil
		}
	}
	return &service.Error{Code: codeSignatureDoesNotMatch, Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signingKey(secret, day, region, svc string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, svc)
	return hmacSHA256(k, "aws4_request")
}

// awsEscape percent-encodes everything but the unreserved characters (and '/' unless
// encodeSlash), upper-case hex, as SigV4 does.
func awsEscape(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// normalizePath removes dot and empty segments, keeping a trailing slash, as botocore does.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		n += "/"
	}
	return n
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil {
			uk = k
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			uv = v
		}
		pairs = append(pairs, kv{awsEscape(uk, true), awsEscape(uv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = slices.Clone(r.Header.Values("Content-Length"))
			if len(vals) == 0 {
				vals = []string{fmt.Sprint(r.ContentLength)}
			}
		default:
			vals = slices.Clone(r.Header.Values(name))
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}
