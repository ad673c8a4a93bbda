// Package health probes endpoints, turns the probe results into up/down states the way Route 53
// health checks do, and schedules the probes.
package health

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Health check types (Route 53's HealthCheckType values that failoverdns runs).
const (
	TypeHTTP          = "HTTP"
	TypeHTTPS         = "HTTPS"
	TypeHTTPStrMatch  = "HTTP_STR_MATCH"
	TypeHTTPSStrMatch = "HTTPS_STR_MATCH"
	TypeTCP           = "TCP"
	TypeCalculated    = "CALCULATED"
)

// Values of Config.InsufficientDataHealthStatus.
const (
	InsufficientDataHealthy         = "Healthy"
	InsufficientDataUnhealthy       = "Unhealthy"
	InsufficientDataLastKnownStatus = "LastKnownStatus"
)

// Limits and defaults. The Route 53 ones are Route 53's; the others are failoverdns's.
const (
	// MinRequestInterval is the shortest probe interval, in seconds.
	MinRequestInterval = 0.1
	// MaxRequestInterval is the longest probe interval, in seconds.
	MaxRequestInterval = 3600.0
	// DefaultRequestInterval is Route 53's default interval, in seconds.
	DefaultRequestInterval = 30.0
	// DefaultFailureThreshold is Route 53's default FailureThreshold.
	DefaultFailureThreshold = 3
	// MaxFailureThreshold is Route 53's upper bound for FailureThreshold.
	MaxFailureThreshold = 10
	// MaxRecoveryThreshold is the upper bound for RecoveryThreshold (a failback hold-down of up to
	// 1000 consecutive successes).
	MaxRecoveryThreshold = 1000
	// DefaultTimeout is the longest default probe timeout, in seconds; the default is
	// min(RequestInterval, DefaultTimeout).
	DefaultTimeout = 4.0
	// DefaultHealthyStatusCodes are Route 53's healthy statuses: 2xx and 3xx.
	DefaultHealthyStatusCodes = "200-399"
	// SearchWindow is how much of the (decoded) body STR_MATCH checks search, in bytes.
	SearchWindow = 5120
	// MaxChildHealthChecks is Route 53's limit on ChildHealthChecks.
	MaxChildHealthChecks = 256
	// MaxHealthThreshold is Route 53's upper bound for HealthThreshold.
	MaxHealthThreshold = 256
)

// Config is one health check's settings: Route 53's HealthCheckConfig, with its JSON field names,
// plus failoverdns extensions. A zero numeric field means "the default"; SetDefaults writes the
// defaults that do not depend on other fields, and Interval, ProbeTimeout and Thresholds give the
// values in effect whether or not SetDefaults was called.
//
// RequestInterval is a float64 number of seconds. Whole numbers encode as JSON integers, so a
// Route 53 document ("RequestInterval": 30) round-trips unchanged; fractions down to 0.1 s are the
// failoverdns extension. One field keeps one meaning: there is no second "fast interval" field that
// could disagree with it. An encoder that must emit Route 53's integer (the REST-XML facade)
// rounds up.
type Config struct {
	// IPAddress is the IPv4 or IPv6 address to probe. Unlike Route 53, private, loopback and
	// link-local addresses are allowed. Empty means: resolve FullyQualifiedDomainName at every probe.
	IPAddress string `json:"IPAddress,omitempty"`
	// Port is the TCP port; default 80 for HTTP types, 443 for HTTPS types, required for TCP.
	Port int `json:"Port,omitempty"`
	// Type is one of the Type constants; required.
	Type string `json:"Type"`
	// ResourcePath is the path (and optional query) requested by HTTP types; default "/". A missing
	// leading "/" is added, as Route 53 does. Ignored by TCP.
	ResourcePath string `json:"ResourcePath,omitempty"`
	// FullyQualifiedDomainName is the Host header and TLS name when IPAddress is set, and the name
	// resolved at every probe when it is not.
	FullyQualifiedDomainName string `json:"FullyQualifiedDomainName,omitempty"`
	// SearchString must appear in the first 5120 bytes of the body (STR_MATCH types only).
	SearchString string `json:"SearchString,omitempty"`
	// RequestInterval is the time between probe starts, in seconds: 0.1 to 3600, default 30.
	RequestInterval float64 `json:"RequestInterval,omitempty"`
	// FailureThreshold is the number of consecutive failed probes that make a healthy check
	// unhealthy: 1 to 10, default 3.
	FailureThreshold int `json:"FailureThreshold,omitempty"`
	// MeasureLatency is kept for Route 53 compatibility; failoverdns always measures latency.
	MeasureLatency bool `json:"MeasureLatency"`
	// Inverted flips the probe result.
	Inverted bool `json:"Inverted"`
	// Disabled stops probing; the check is then healthy for routing (unhealthy if also Inverted).
	Disabled bool `json:"Disabled"`
	// HealthThreshold is how many ChildHealthChecks must be healthy (CALCULATED only): 0 to 256.
	HealthThreshold int `json:"HealthThreshold,omitempty"`
	// ChildHealthChecks are the ids of the checks a CALCULATED check combines (at most 256).
	ChildHealthChecks []string `json:"ChildHealthChecks,omitempty"`
	// EnableSNI sends FullyQualifiedDomainName in the TLS ClientHello. Nil means Route 53's
	// default: true for HTTPS types, false otherwise.
	EnableSNI *bool `json:"EnableSNI,omitempty"`
	// Regions is kept for Route 53 compatibility; failoverdns probes from where it runs.
	Regions []string `json:"Regions,omitempty"`
	// InsufficientDataHealthStatus is the measured state of a check before its first verdict:
	// "Healthy", "LastKnownStatus" or empty (all three: healthy, as Route 53 treats a new check), or
	// "Unhealthy" (a new endpoint gets no traffic until RecoveryThreshold probes succeed). Route 53
	// uses this field only for CloudWatch checks; failoverdns applies it to every probed check.
	InsufficientDataHealthStatus string `json:"InsufficientDataHealthStatus,omitempty"`

	// RecoveryThreshold is the number of consecutive successful probes that make an unhealthy check
	// healthy again: 1 to 1000, default FailureThreshold. A failoverdns extension: a value above
	// FailureThreshold is a failback hold-down.
	RecoveryThreshold int `json:"RecoveryThreshold,omitempty"`
	// Timeout is the whole budget of one probe (resolution, connect, TLS, status line, and for
	// STR_MATCH the body), in seconds; at most RequestInterval, default min(RequestInterval, 4).
	// A failoverdns extension: Route 53 allows 4 s to connect plus 2 s for the status, and 10 s for
	// TCP, with no knob.
	Timeout float64 `json:"Timeout,omitempty"`
	// HealthyStatusCodes lists the HTTP statuses counted as healthy, as comma-separated codes and
	// ranges ("200-399", "200,204", "200-299,302"); default "200-399". A failoverdns extension.
	HealthyStatusCodes string `json:"HealthyStatusCodes,omitempty"`
	// Headers are sent with every HTTP request; they replace the defaults, Host and User-Agent
	// included. A failoverdns extension.
	Headers map[string]string `json:"Headers,omitempty"`
	// InsecureSkipVerify accepts any certificate. HTTPS checks verify the certificate against
	// FullyQualifiedDomainName (or IPAddress) by default, unlike Route 53; this is the opt-out.
	// A failoverdns extension.
	InsecureSkipVerify bool `json:"InsecureSkipVerify,omitempty"`
}

// Problem is one reason a Config is invalid.
type Problem struct {
	// Field is the JSON name of the offending field.
	Field string
	// Message says what is wrong, in words a user can act on.
	Message string
}

// ConfigError lists every reason a Config is invalid.
type ConfigError struct {
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("health: invalid health check: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

func isHTTPType(t string) bool {
	return t == TypeHTTP || t == TypeHTTPS || t == TypeHTTPStrMatch || t == TypeHTTPSStrMatch
}

func isHTTPSType(t string) bool { return t == TypeHTTPS || t == TypeHTTPSStrMatch }

func isStrMatchType(t string) bool { return t == TypeHTTPStrMatch || t == TypeHTTPSStrMatch }

// Validate reports every problem with c as a *ConfigError, or nil. Zero numeric fields are
// accepted as "the default". Private and loopback addresses are valid: probing them is why
// failoverdns runs next to the endpoints.
func (c *Config) Validate() error {
	var ps []Problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	switch c.Type {
	case TypeHTTP, TypeHTTPS, TypeHTTPStrMatch, TypeHTTPSStrMatch, TypeTCP, TypeCalculated:
	case "":
		bad("Type", "is required (HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP or CALCULATED)")
	case "CLOUDWATCH_METRIC", "RECOVERY_CONTROL":
		bad("Type", "%s is a Route 53 type that failoverdns does not run", c.Type)
	default:
		bad("Type", "unknown type %q (want HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP or CALCULATED)", c.Type)
	}
	calculated := c.Type == TypeCalculated

	if c.IPAddress != "" {
		switch a, err := netip.ParseAddr(c.IPAddress); {
		case calculated:
			bad("IPAddress", "must be empty for CALCULATED checks")
		case len(c.IPAddress) > 45:
			bad("IPAddress", "is longer than 45 characters")
		case err != nil:
			bad("IPAddress", "%q is not an IPv4 or IPv6 address", c.IPAddress)
		case a.IsUnspecified():
			bad("IPAddress", "%s is the unspecified address; give the endpoint's address", c.IPAddress)
		case a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
			bad("IPAddress", "%s is a multicast or broadcast address", c.IPAddress)
		}
	}

	if fqdn := c.FullyQualifiedDomainName; fqdn != "" {
		if calculated {
			bad("FullyQualifiedDomainName", "must be empty for CALCULATED checks")
		} else if msg := checkHostname(fqdn); msg != "" {
			bad("FullyQualifiedDomainName", "%s", msg)
		}
	} else if c.IPAddress == "" && !calculated && c.Type != "" {
		bad("IPAddress", "IPAddress or FullyQualifiedDomainName is required")
	}

	switch {
	case c.Port == 0 && c.Type == TypeTCP:
		bad("Port", "is required for TCP checks")
	case c.Port != 0 && calculated:
		bad("Port", "must be empty for CALCULATED checks")
	case c.Port < 0 || c.Port > 65535:
		bad("Port", "must be between 1 and 65535, got %d", c.Port)
	}

	if c.ResourcePath != "" {
		p := c.ResourcePath
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		switch {
		case calculated:
			bad("ResourcePath", "must be empty for CALCULATED checks")
		case len(c.ResourcePath) > 255:
			bad("ResourcePath", "is longer than 255 characters")
		default:
			if _, err := url.ParseRequestURI(p); err != nil || strings.ContainsAny(p, " \t\r\n#") {
				bad("ResourcePath", "%q is not a valid path and query", c.ResourcePath)
			}
		}
	}

	switch {
	case c.SearchString != "" && !isStrMatchType(c.Type):
		bad("SearchString", "is only allowed for HTTP_STR_MATCH and HTTPS_STR_MATCH checks")
	case c.SearchString == "" && isStrMatchType(c.Type):
		bad("SearchString", "is required for %s checks", c.Type)
	case len(c.SearchString) > 255:
		bad("SearchString", "is longer than 255 characters")
	}

	interval := c.RequestInterval
	switch {
	case math.IsNaN(interval) || math.IsInf(interval, 0):
		bad("RequestInterval", "must be a number of seconds")
	case interval != 0 && interval < MinRequestInterval:
		bad("RequestInterval", "%g s is below the minimum of %g s", interval, MinRequestInterval)
	case interval > MaxRequestInterval:
		bad("RequestInterval", "%g s is above the maximum of %g s", interval, MaxRequestInterval)
	}
	if interval == 0 || interval < MinRequestInterval || interval > MaxRequestInterval || math.IsNaN(interval) {
		interval = DefaultRequestInterval
	}

	if c.FailureThreshold < 0 || c.FailureThreshold > MaxFailureThreshold {
		bad("FailureThreshold", "must be between 1 and %d, got %d", MaxFailureThreshold, c.FailureThreshold)
	}
	if c.RecoveryThreshold < 0 || c.RecoveryThreshold > MaxRecoveryThreshold {
		bad("RecoveryThreshold", "must be between 1 and %d, got %d", MaxRecoveryThreshold, c.RecoveryThreshold)
	}

	switch t := c.Timeout; {
	case math.IsNaN(t) || math.IsInf(t, 0) || t < 0:
		bad("Timeout", "must be a positive number of seconds")
	case t > interval && !calculated:
		bad("Timeout", "%g s is longer than RequestInterval (%g s); one probe must end before the next starts", t, interval)
	case t != 0 && t < 0.001:
		bad("Timeout", "%g s is below the minimum of 0.001 s", t)
	}

	if c.HealthThreshold != 0 && !calculated {
		bad("HealthThreshold", "is only allowed for CALCULATED checks")
	} else if c.HealthThreshold < 0 || c.HealthThreshold > MaxHealthThreshold {
		bad("HealthThreshold", "must be between 0 and %d, got %d", MaxHealthThreshold, c.HealthThreshold)
	}
	if len(c.ChildHealthChecks) > 0 && !calculated {
		bad("ChildHealthChecks", "is only allowed for CALCULATED checks")
	} else if len(c.ChildHealthChecks) > MaxChildHealthChecks {
		bad("ChildHealthChecks", "has %d entries; the limit is %d", len(c.ChildHealthChecks), MaxChildHealthChecks)
	} else {
		seen := make(map[string]bool, len(c.ChildHealthChecks))
		for _, id := range c.ChildHealthChecks {
			switch {
			case id == "":
				bad("ChildHealthChecks", "contains an empty id")
			case len(id) > 64:
				bad("ChildHealthChecks", "id %q is longer than 64 characters", id)
			case seen[id]:
				bad("ChildHealthChecks", "lists %q twice", id)
			}
			seen[id] = true
		}
	}

	if len(c.Regions) > 64 {
		bad("Regions", "has %d entries; the limit is 64", len(c.Regions))
	}
	for _, r := range c.Regions {
		if r == "" {
			bad("Regions", "contains an empty region")
			break
		}
	}

	switch c.InsufficientDataHealthStatus {
	case "", InsufficientDataHealthy, InsufficientDataUnhealthy, InsufficientDataLastKnownStatus:
	default:
		bad("InsufficientDataHealthStatus", "must be Healthy, Unhealthy or LastKnownStatus, got %q", c.InsufficientDataHealthStatus)
	}

	if c.HealthyStatusCodes != "" {
		if !isHTTPType(c.Type) {
			bad("HealthyStatusCodes", "is only allowed for HTTP, HTTPS and STR_MATCH checks")
		} else if _, err := parseStatusCodes(c.HealthyStatusCodes); err != nil {
			bad("HealthyStatusCodes", "%v", err)
		}
	}
	if len(c.Headers) > 0 {
		if !isHTTPType(c.Type) {
			bad("Headers", "are only allowed for HTTP, HTTPS and STR_MATCH checks")
		}
		for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
			if !validHeaderName(name) {
				bad("Headers", "%q is not a valid header name", name)
			} else if !validHeaderValue(c.Headers[name]) {
				bad("Headers", "the value of %s contains a control character", name)
			}
		}
	}
	if c.InsecureSkipVerify && !isHTTPSType(c.Type) {
		bad("InsecureSkipVerify", "is only allowed for HTTPS and HTTPS_STR_MATCH checks")
	}

	if len(ps) > 0 {
		return &ConfigError{Problems: ps}
	}
	return nil
}

// checkHostname returns why name is not a usable host name, or "".
func checkHostname(name string) string {
	switch {
	case len(name) > 255:
		return "is longer than 255 characters"
	case strings.Contains(name, "://"):
		return fmt.Sprintf("%q is a URL; give the host name only (and Port, ResourcePath separately)", name)
	case strings.Contains(name, "/"):
		return fmt.Sprintf("%q contains a path; put it in ResourcePath", name)
	}
	if _, port, err := splitHostPortLoose(name); err == nil && port != "" {
		return fmt.Sprintf("%q contains a port; put it in Port", name)
	}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Sprintf("%q is not a valid host name (empty label or label over 63 characters)", name)
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return fmt.Sprintf("%q is not a valid host name (character %q)", name, ch)
			}
		}
	}
	return ""
}

// splitHostPortLoose finds "name:port" typos in a host name.
func splitHostPortLoose(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", nil
	}
	if _, err := strconv.Atoi(s[i+1:]); err != nil {
		return s, "", nil
	}
	return s[:i], s[i+1:], nil
}

// SetDefaults fills the defaults that do not depend on other fields: Port (80, or 443 for HTTPS
// types), ResourcePath "/" (and its leading "/"), RequestInterval 30, FailureThreshold 3,
// HealthyStatusCodes "200-399" and EnableSNI (true for HTTPS types). RecoveryThreshold and Timeout
// stay 0 so that they keep following FailureThreshold and RequestInterval when those change; read
// them through Thresholds and ProbeTimeout. CALCULATED checks get no endpoint defaults.
func (c *Config) SetDefaults() {
	if c.Type == TypeCalculated {
		return
	}
	if c.Port == 0 {
		switch {
		case isHTTPSType(c.Type):
			c.Port = 443
		case isHTTPType(c.Type):
			c.Port = 80
		}
	}
	if isHTTPType(c.Type) {
		c.ResourcePath = resourcePath(c.ResourcePath)
		if c.HealthyStatusCodes == "" {
			c.HealthyStatusCodes = DefaultHealthyStatusCodes
		}
	}
	if c.RequestInterval == 0 {
		c.RequestInterval = DefaultRequestInterval
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.EnableSNI == nil {
		sni := isHTTPSType(c.Type)
		c.EnableSNI = &sni
	}
}

func resourcePath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// Interval is the probe interval in effect.
func (c *Config) Interval() time.Duration {
	s := c.RequestInterval
	if s == 0 || math.IsNaN(s) {
		s = DefaultRequestInterval
	}
	s = min(max(s, MinRequestInterval), MaxRequestInterval)
	return time.Duration(s * float64(time.Second))
}

// ProbeTimeout is the budget of one probe in effect: Timeout, or min(Interval, 4 s).
func (c *Config) ProbeTimeout() time.Duration {
	iv := c.Interval()
	if c.Timeout > 0 && !math.IsInf(c.Timeout, 0) {
		return min(time.Duration(c.Timeout*float64(time.Second)), iv)
	}
	return min(iv, time.Duration(DefaultTimeout*float64(time.Second)))
}

// Thresholds are the consecutive failures that make a healthy check unhealthy (fall) and the
// consecutive successes that make an unhealthy check healthy (rise) in effect.
func (c *Config) Thresholds() (fall, rise int) {
	fall = c.FailureThreshold
	if fall <= 0 {
		fall = DefaultFailureThreshold
	}
	rise = c.RecoveryThreshold
	if rise <= 0 {
		rise = fall
	}
	return fall, rise
}

// sniEnabled reports whether the TLS ClientHello carries FullyQualifiedDomainName.
func (c *Config) sniEnabled() bool {
	if c.EnableSNI != nil {
		return *c.EnableSNI
	}
	return isHTTPSType(c.Type)
}

// probed reports whether the scheduler runs probes for c.
func (c *Config) probed() bool { return c.Type != TypeCalculated && !c.Disabled }

// statusCodes is a set of HTTP status codes as sorted, disjoint, inclusive ranges.
type statusCodes [][2]int

func (s statusCodes) contains(code int) bool {
	for _, r := range s {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

var defaultStatusCodes = statusCodes{{200, 399}}

// parseStatusCodes parses "200-399", "200,204,300-302".
func parseStatusCodes(s string) (statusCodes, error) {
	var out statusCodes
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var errB error
		if isRange {
			b, errB = strconv.Atoi(strings.TrimSpace(hi))
		}
		switch {
		case errA != nil || errB != nil:
			return nil, fmt.Errorf("%q is not a status code or a range like 200-399", part)
		case a < 100 || b > 599:
			return nil, fmt.Errorf("%q is outside 100-599", part)
		case a > b:
			return nil, fmt.Errorf("%q is an empty range", part)
		}
		out = append(out, [2]int{a, b})
	}
	return out, nil
}

// validHeaderName reports whether name is an RFC 9110 token, as a header name must be: in a
// check's configuration and in a probe's response.
func validHeaderName[T string | []byte](name T) bool {
	if len(name) == 0 {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			continue
		}
		if strings.IndexByte("!#$%&'*+-.^_`|~", ch) < 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v has no control characters but tabs.
func validHeaderValue[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if ch := v[i]; ch < ' ' && ch != '\t' || ch == 0x7f {
			return false
		}
	}
	return true
}
