package health

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	yes := true
	ok := []struct {
		name string
		cfg  Config
	}{
		{"http by ip", Config{Type: TypeHTTP, IPAddress: "192.0.2.1"}},
		{"private ip", Config{Type: TypeHTTP, IPAddress: "10.1.2.3"}},
		{"loopback ip", Config{Type: TypeHTTPS, IPAddress: "127.0.0.1"}},
		{"link-local v6 with zone", Config{Type: TypeHTTP, IPAddress: "fe80::1%eth0"}},
		{"cgnat ip", Config{Type: TypeTCP, IPAddress: "100.64.0.1", Port: 22}},
		{"by name", Config{Type: TypeHTTPS, FullyQualifiedDomainName: "api.example.com"}},
		{"str match", Config{Type: TypeHTTPStrMatch, IPAddress: "::1", SearchString: "ok"}},
		{"fast interval", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: 0.1}},
		{"route53 interval", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: 10, FailureThreshold: 10}},
		{"timeout equals interval", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: 1, Timeout: 1}},
		{"calculated", Config{Type: TypeCalculated, HealthThreshold: 2, ChildHealthChecks: []string{"a", "b"}}},
		{"calculated threshold 0", Config{Type: TypeCalculated}},
		{"extensions", Config{Type: TypeHTTPS, IPAddress: "10.0.0.1", RecoveryThreshold: 60, HealthyStatusCodes: "200,204,300-302",
			Headers: map[string]string{"Authorization": "Bearer x", "Host": "internal"}, InsecureSkipVerify: true, EnableSNI: &yes}},
		{"path without slash", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", ResourcePath: "health?deep=1"}},
		{"route53 fields kept", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", Regions: []string{"us-east-1", "eu-west-1", "ap-southeast-1"},
			MeasureLatency: true, InsufficientDataHealthStatus: "LastKnownStatus"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}

	bad := []struct {
		name  string
		cfg   Config
		field string
		text  string
	}{
		{"no type", Config{IPAddress: "10.0.0.1"}, "Type", "is required"},
		{"unknown type", Config{Type: "PING", IPAddress: "10.0.0.1"}, "Type", `unknown type "PING"`},
		{"cloudwatch", Config{Type: "CLOUDWATCH_METRIC"}, "Type", "does not run"},
		{"no target", Config{Type: TypeHTTP}, "IPAddress", "IPAddress or FullyQualifiedDomainName is required"},
		{"bad ip", Config{Type: TypeHTTP, IPAddress: "10.0.0.256"}, "IPAddress", "not an IPv4 or IPv6 address"},
		{"unspecified ip", Config{Type: TypeHTTP, IPAddress: "0.0.0.0"}, "IPAddress", "unspecified"},
		{"multicast ip", Config{Type: TypeHTTP, IPAddress: "224.0.0.1"}, "IPAddress", "multicast"},
		{"port too big", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", Port: 70000}, "Port", "between 1 and 65535, got 70000"},
		{"tcp without port", Config{Type: TypeTCP, IPAddress: "10.0.0.1"}, "Port", "required for TCP"},
		{"path too long", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", ResourcePath: "/" + strings.Repeat("a", 255)}, "ResourcePath", "longer than 255"},
		{"path with space", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", ResourcePath: "/a b"}, "ResourcePath", "not a valid path"},
		{"url as fqdn", Config{Type: TypeHTTP, FullyQualifiedDomainName: "https://example.com/health"}, "FullyQualifiedDomainName", "is a URL"},
		{"port in fqdn", Config{Type: TypeHTTP, FullyQualifiedDomainName: "example.com:8080"}, "FullyQualifiedDomainName", "put it in Port"},
		{"search on http", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", SearchString: "ok"}, "SearchString", "only allowed for HTTP_STR_MATCH"},
		{"str match without search", Config{Type: TypeHTTPSStrMatch, IPAddress: "10.0.0.1"}, "SearchString", "required"},
		{"search too long", Config{Type: TypeHTTPStrMatch, IPAddress: "10.0.0.1", SearchString: strings.Repeat("x", 256)}, "SearchString", "longer than 255"},
		{"interval too short", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: 0.05}, "RequestInterval", "0.05 s is below the minimum of 0.1 s"},
		{"negative interval", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: -1}, "RequestInterval", "below the minimum"},
		{"failure threshold 11", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", FailureThreshold: 11}, "FailureThreshold", "between 1 and 10, got 11"},
		{"recovery threshold", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RecoveryThreshold: 1001}, "RecoveryThreshold", "between 1 and 1000"},
		{"timeout above interval", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: 1, Timeout: 2}, "Timeout", "longer than RequestInterval"},
		{"health threshold on http", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", HealthThreshold: 1}, "HealthThreshold", "only allowed for CALCULATED"},
		{"health threshold 257", Config{Type: TypeCalculated, HealthThreshold: 257}, "HealthThreshold", "between 0 and 256"},
		{"children on http", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", ChildHealthChecks: []string{"a"}}, "ChildHealthChecks", "only allowed for CALCULATED"},
		{"257 children", Config{Type: TypeCalculated, ChildHealthChecks: manyIDs(257)}, "ChildHealthChecks", "limit is 256"},
		{"duplicate child", Config{Type: TypeCalculated, ChildHealthChecks: []string{"a", "a"}}, "ChildHealthChecks", `lists "a" twice`},
		{"ip on calculated", Config{Type: TypeCalculated, IPAddress: "10.0.0.1"}, "IPAddress", "must be empty for CALCULATED"},
		{"bad status codes", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", HealthyStatusCodes: "2xx"}, "HealthyStatusCodes", "not a status code"},
		{"status codes out of range", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", HealthyStatusCodes: "200-700"}, "HealthyStatusCodes", "outside 100-599"},
		{"status codes on tcp", Config{Type: TypeTCP, IPAddress: "10.0.0.1", Port: 1, HealthyStatusCodes: "200"}, "HealthyStatusCodes", "only allowed"},
		{"bad header name", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", Headers: map[string]string{"Bad Name": "x"}}, "Headers", "not a valid header name"},
		{"header injection", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", Headers: map[string]string{"X-A": "a\r\nX-B: b"}}, "Headers", "control character"},
		{"skip verify on http", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", InsecureSkipVerify: true}, "InsecureSkipVerify", "only allowed for HTTPS"},
		{"insufficient data", Config{Type: TypeHTTP, IPAddress: "10.0.0.1", InsufficientDataHealthStatus: "Maybe"}, "InsufficientDataHealthStatus", "must be Healthy"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate = %v, want a *ConfigError", err)
			}
			if !strings.HasPrefix(err.Error(), "health: ") {
				t.Errorf("error %q lacks the health: prefix", err)
			}
			for _, p := range ce.Problems {
				if p.Field == tc.field && strings.Contains(p.Message, tc.text) {
					return
				}
			}
			t.Fatalf("Validate = %q, want a problem with field %s containing %q", err, tc.field, tc.text)
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	c := Config{Type: TypeHTTP, IPAddress: "nope", Port: -1, FailureThreshold: 20}
	err := c.Validate()
	want := "health: invalid health check: IPAddress: \"nope\" is not an IPv4 or IPv6 address; " +
		"Port: must be between 1 and 65535, got -1; FailureThreshold: must be between 1 and 10, got 20"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate =\n%v\nwant\n%s", err, want)
	}
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "child-" + strings.Repeat("x", i%10) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	return ids
}

func TestSetDefaults(t *testing.T) {
	c := Config{Type: TypeHTTPS, IPAddress: "10.0.0.1", ResourcePath: "status"}
	c.SetDefaults()
	if c.Port != 443 || c.ResourcePath != "/status" || c.RequestInterval != 30 || c.FailureThreshold != 3 ||
		c.HealthyStatusCodes != "200-399" || c.EnableSNI == nil || !*c.EnableSNI {
		t.Fatalf("SetDefaults(HTTPS) = %+v", c)
	}
	if c.RecoveryThreshold != 0 || c.Timeout != 0 {
		t.Errorf("SetDefaults wrote derived defaults: RecoveryThreshold %d, Timeout %g", c.RecoveryThreshold, c.Timeout)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}

	h := Config{Type: TypeHTTP, IPAddress: "10.0.0.1"}
	h.SetDefaults()
	if h.Port != 80 || h.ResourcePath != "/" || *h.EnableSNI {
		t.Errorf("SetDefaults(HTTP) = %+v", h)
	}
	tcp := Config{Type: TypeTCP, IPAddress: "10.0.0.1", Port: 5432}
	tcp.SetDefaults()
	if tcp.ResourcePath != "" || tcp.HealthyStatusCodes != "" || tcp.RequestInterval != 30 {
		t.Errorf("SetDefaults(TCP) = %+v", tcp)
	}
	calc := Config{Type: TypeCalculated, ChildHealthChecks: []string{"a"}}
	calc.SetDefaults()
	if err := calc.Validate(); err != nil {
		t.Errorf("SetDefaults(CALCULATED) made it invalid: %v", err)
	}
}

func TestEffectiveValues(t *testing.T) {
	for _, tc := range []struct {
		cfg           Config
		interval, tmo time.Duration
		fall, rise    int
	}{
		{Config{}, 30 * time.Second, 4 * time.Second, 3, 3},
		{Config{RequestInterval: 1}, time.Second, time.Second, 3, 3},
		{Config{RequestInterval: 0.1, FailureThreshold: 2}, 100 * time.Millisecond, 100 * time.Millisecond, 2, 2},
		{Config{RequestInterval: 10, Timeout: 8, FailureThreshold: 1, RecoveryThreshold: 5}, 10 * time.Second, 8 * time.Second, 1, 5},
	} {
		if got := tc.cfg.Interval(); got != tc.interval {
			t.Errorf("%+v: Interval = %v, want %v", tc.cfg, got, tc.interval)
		}
		if got := tc.cfg.ProbeTimeout(); got != tc.tmo {
			t.Errorf("%+v: ProbeTimeout = %v, want %v", tc.cfg, got, tc.tmo)
		}
		if fall, rise := tc.cfg.Thresholds(); fall != tc.fall || rise != tc.rise {
			t.Errorf("%+v: Thresholds = %d, %d, want %d, %d", tc.cfg, fall, rise, tc.fall, tc.rise)
		}
	}
}

// A Route 53 document keeps its integer RequestInterval through failoverdns; fractions survive too.
func TestRequestIntervalJSON(t *testing.T) {
	in := `{"IPAddress":"192.0.2.1","Port":80,"Type":"HTTP","ResourcePath":"/","RequestInterval":30,"FailureThreshold":3,"MeasureLatency":false,"Inverted":false,"Disabled":false,"EnableSNI":false}`
	var c Config
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}

	c.RequestInterval = 0.5
	out, _ = json.Marshal(c)
	if !strings.Contains(string(out), `"RequestInterval":0.5,`) {
		t.Fatalf("fractional interval encodes as %s", out)
	}
}

func TestParseStatusCodes(t *testing.T) {
	s, err := parseStatusCodes("200, 204,300-302")
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{200: true, 201: false, 204: true, 299: false, 300: true, 302: true, 303: false} {
		if s.contains(code) != want {
			t.Errorf("contains(%d) = %v", code, !want)
		}
	}
	for _, bad := range []string{"", "200-", "-200", "300-200", "99", "600", "2xx", "200,,204"} {
		if _, err := parseStatusCodes(bad); err == nil {
			t.Errorf("parseStatusCodes(%q) accepted", bad)
		}
	}
}
