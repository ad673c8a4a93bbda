package watch

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus seconds.
func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// dnsObs is a NOERROR answer (values), or with a value "!timeout"/"!SERVFAIL"/"!NXDOMAIN" a
// timeout or that rcode.
func dnsObs(target string, sec float64, values ...string) Observation {
	o := Observation{Time: at(sec), Target: target, Kind: KindDNS, Rcode: "NOERROR", Answers: values}
	if len(values) == 1 && strings.HasPrefix(values[0], "!") {
		o.Answers = nil
		switch v := values[0][1:]; v {
		case "timeout":
			o.Rcode, o.Error, o.Timeout = "", "timeout", true
		default:
			o.Rcode = v
		}
	}
	return o
}

func httpObs(target string, sec float64, status int, server string) Observation {
	o := Observation{Time: at(sec), Target: target, Kind: KindHTTP, Status: status}
	if status == 0 {
		o.Error = "connection refused"
	}
	if server != "" {
		o.Headers = map[string]string{"Server": server}
	}
	return o
}

func TestSummary(t *testing.T) {
	const s1, s2 = "192.0.2.53:53", "198.51.100.53:53"
	for _, tc := range []struct {
		name  string
		opts  Options
		obs   []Observation
		check func(t *testing.T, r Result)
	}{
		{
			name: "one server switches cleanly",
			obs: []Observation{dnsObs(s1, 0, "10.0.0.1"), dnsObs(s1, 1, "10.0.0.1"), dnsObs(s1, 2, "10.0.0.1"),
				dnsObs(s1, 3, "10.0.0.2"), dnsObs(s1, 4, "10.0.0.2")},
			check: func(t *testing.T, r Result) {
				tr := r.Targets[0]
				want := []Change{{Time: Time{at(3)}, LastBefore: Time{at(2)}, Before: []string{"10.0.0.1"}, After: []string{"10.0.0.2"}}}
				if !reflect.DeepEqual(tr.Changes, want) {
					t.Errorf("changes %+v, want %+v", tr.Changes, want)
				}
				if tr.Polls != 5 || tr.Errors != 0 || !tr.Reached || !tr.ReachedAt.Equal(at(3)) || *tr.After != Millis(3*time.Second) {
					t.Errorf("target %+v", tr)
				}
				if r.Overall.Mixed != nil || !r.Overall.AllReached || !reflect.DeepEqual(r.Overall.New, []string{"10.0.0.2"}) {
					t.Errorf("overall %+v", r.Overall)
				}
				if len(tr.Answers) != 2 || !tr.Answers[0].First.Equal(at(0)) || !tr.Answers[0].Last.Equal(at(2)) || tr.Answers[1].Polls != 2 {
					t.Errorf("answers %+v", tr.Answers)
				}
			},
		},
		{
			name: "a caching resolver lags: mixed window from the first new to the last old answer",
			opts: Options{Expect: []string{"10.0.0.2"}},
			obs: []Observation{dnsObs(s1, 0, "10.0.0.1"), dnsObs(s2, 0, "10.0.0.1"),
				dnsObs(s1, 1, "10.0.0.2"), dnsObs(s2, 1, "10.0.0.1"),
				dnsObs(s1, 2, "10.0.0.2"), dnsObs(s2, 2, "10.0.0.1"),
				dnsObs(s1, 3, "10.0.0.2"), dnsObs(s2, 3, "10.0.0.2")},
			check: func(t *testing.T, r Result) {
				want := &Window{Start: Time{at(1)}, End: Time{at(2)}, Duration: Millis(time.Second)}
				if !reflect.DeepEqual(r.Overall.Mixed, want) {
					t.Errorf("mixed %+v, want %+v", r.Overall.Mixed, want)
				}
				if !r.Overall.AllReached || *r.Targets[1].After != Millis(3*time.Second) || *r.Targets[0].After != Millis(time.Second) {
					t.Errorf("reached: %+v", r.Targets)
				}
				if !r.Overall.FirstNew.Equal(at(1)) || !r.Overall.LastOld.Equal(at(2)) {
					t.Errorf("first new %v, last old %v", r.Overall.FirstNew, r.Overall.LastOld)
				}
			},
		},
		{
			name: "an answer that is neither the old nor the expected one",
			opts: Options{Expect: []string{"10.0.0.2"}},
			obs: []Observation{dnsObs(s1, 0, "10.0.0.1"), dnsObs(s1, 1, "203.0.113.9"), dnsObs(s1, 2, "10.0.0.2"),
				dnsObs(s2, 0, "10.0.0.1"), dnsObs(s2, 1, "10.0.0.1"), dnsObs(s2, 2, "203.0.113.9")},
			check: func(t *testing.T, r Result) {
				if got := r.Targets[0].Unexpected; !reflect.DeepEqual(got, [][]string{{"203.0.113.9"}}) {
					t.Errorf("unexpected on s1: %v", got)
				}
				u := r.Overall.Unexpected
				if len(u) != 1 || u[0].Polls != 2 || !u[0].First.Equal(at(1)) || !u[0].Last.Equal(at(2)) {
					t.Errorf("overall unexpected %+v", u)
				}
				if r.Overall.AllReached || r.Targets[1].Reached || !r.Targets[0].Reached {
					t.Errorf("s2 ends on the unexpected answer: %+v", r.Overall)
				}
				if len(r.Targets[0].Changes) != 2 {
					t.Errorf("changes %+v", r.Targets[0].Changes)
				}
			},
		},
		{
			name: "timeouts and SERVFAIL are errors, not changes of answer",
			obs: []Observation{dnsObs(s1, 0, "10.0.0.1"), dnsObs(s1, 1, "!timeout"), dnsObs(s1, 2, "!SERVFAIL"),
				dnsObs(s1, 3, "10.0.0.1"), dnsObs(s1, 4, "!timeout")},
			check: func(t *testing.T, r Result) {
				tr := r.Targets[0]
				if tr.Polls != 5 || tr.Errors != 3 || tr.Timeouts != 2 || len(tr.Changes) != 0 {
					t.Errorf("target %+v", tr)
				}
				want := []ErrorSeen{{Error: "timeout", Count: 2, First: Time{at(1)}, Last: Time{at(4)}}, {Error: "SERVFAIL", Count: 1, First: Time{at(2)}, Last: Time{at(2)}}}
				if !reflect.DeepEqual(tr.ErrorsBy, want) {
					t.Errorf("errors %+v, want %+v", tr.ErrorsBy, want)
				}
				if r.Overall.New != nil || r.Overall.AllReached || r.Overall.Errors != 3 {
					t.Errorf("no switch happened: %+v", r.Overall)
				}
			},
		},
		{
			name: "NXDOMAIN is an answer: a name created during the watch",
			opts: Options{Expect: []string{"10.0.0.1"}},
			obs:  []Observation{dnsObs(s1, 0, "!NXDOMAIN"), dnsObs(s1, 1, "10.0.0.1")},
			check: func(t *testing.T, r Result) {
				c := r.Targets[0].Changes
				if len(c) != 1 || !reflect.DeepEqual(c[0].Before, []string{"NXDOMAIN"}) || r.Targets[0].Errors != 0 {
					t.Errorf("changes %+v", c)
				}
			},
		},
		{
			name: "expected answer never seen",
			opts: Options{Expect: []string{"10.0.0.2"}},
			obs:  []Observation{dnsObs(s1, 0, "10.0.0.1"), dnsObs(s1, 1, "10.0.0.1")},
			check: func(t *testing.T, r Result) {
				if r.Overall.AllReached || r.Targets[0].Reached || r.Overall.FirstNew != nil || r.Overall.Mixed != nil {
					t.Errorf("%+v", r)
				}
			},
		},
		{
			name: "time zero is the acknowledgement; an answer before it counts as at once",
			opts: Options{Zero: at(2)},
			obs:  []Observation{dnsObs(s1, 0, "10.0.0.1"), dnsObs(s1, 1.5, "10.0.0.2"), dnsObs(s2, 0, "10.0.0.1"), dnsObs(s2, 2.25, "10.0.0.2")},
			check: func(t *testing.T, r Result) {
				if *r.Targets[0].After != 0 || *r.Targets[1].After != Millis(250*time.Millisecond) {
					t.Errorf("after: %v %v", *r.Targets[0].After, *r.Targets[1].After)
				}
			},
		},
		{
			name: "URL downtime is the longest run of failed polls, to the first success",
			obs: []Observation{httpObs("http://a/", 0, 200, "old"), httpObs("http://a/", 1, 0, ""), httpObs("http://a/", 2, 0, ""),
				httpObs("http://a/", 3, 503, "new"), httpObs("http://a/", 4, 200, "new"), httpObs("http://a/", 5, 0, "")},
			check: func(t *testing.T, r Result) {
				tr := r.Targets[0]
				want := &Outage{Start: Time{at(1)}, End: Time{at(4)}, Duration: Millis(3 * time.Second), Polls: 3}
				if !reflect.DeepEqual(tr.LongestOutage, want) {
					t.Errorf("outage %+v, want %+v", tr.LongestOutage, want)
				}
				if len(tr.Changes) != 1 || !reflect.DeepEqual(tr.Changes[0].After, []string{"200", "Server=new"}) {
					t.Errorf("changes %+v", tr.Changes)
				}
				if tr.Errors != 4 || r.Overall.Polls != 0 {
					t.Errorf("errors %d, overall polls %d (URLs are not in the DNS overall)", tr.Errors, r.Overall.Polls)
				}
			},
		},
		{
			name: "a URL still down at the end: the outage is ongoing",
			obs:  []Observation{httpObs("http://a/", 0, 200, ""), httpObs("http://a/", 1, 0, ""), httpObs("http://a/", 2, 0, "")},
			check: func(t *testing.T, r Result) {
				want := &Outage{Start: Time{at(1)}, End: Time{at(2)}, Duration: Millis(time.Second), Polls: 2, Ongoing: true}
				if !reflect.DeepEqual(r.Targets[0].LongestOutage, want) {
					t.Errorf("outage %+v, want %+v", r.Targets[0].LongestOutage, want)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSummary(tc.opts)
			for _, o := range tc.obs {
				s.Add(o)
			}
			r := s.Result(time.Time{})
			tc.check(t, r)
			// Every summary renders: text, JSON, SVG (well-formed XML) and HTML.
			if err := WriteText(io.Discard, r); err != nil {
				t.Fatal(err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
			var svg bytes.Buffer
			if err := s.WriteSVG(&svg, r); err != nil {
				t.Fatal(err)
			}
			checkXML(t, svg.Bytes())
			if err := s.WriteHTML(io.Discard, r); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func checkXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, b)
		}
	}
}

func TestResultJSON(t *testing.T) {
	s := NewSummary(Options{})
	s.Add(dnsObs("a:53", 0, "10.0.0.1"))
	s.Add(dnsObs("a:53", 1.5, "10.0.0.2"))
	b, err := json.Marshal(s.Result(time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Targets []struct {
			Polls, Errors int
			Changes       []struct {
				Time          string
				Before, After []string
			}
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	c := v.Targets[0].Changes
	if v.Targets[0].Polls != 2 || len(c) != 1 || c[0].Time != "2025-03-01T12:00:01.500Z" || c[0].Before[0] != "10.0.0.1" || c[0].After[0] != "10.0.0.2" {
		t.Errorf("JSON: %s", b)
	}
}

func TestTextSummary(t *testing.T) {
	s := NewSummary(Options{Expect: []string{"10.0.0.2"}})
	for _, o := range []Observation{dnsObs("a:53", 0, "10.0.0.1"), dnsObs("b:53", 0, "10.0.0.1"), dnsObs("a:53", 1, "10.0.0.2"),
		dnsObs("b:53", 1.5, "10.0.0.1"), dnsObs("b:53", 2, "10.0.0.2")} {
		s.Add(o)
	}
	var b bytes.Buffer
	if err := WriteText(&b, s.Result(time.Time{})); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a:53 (dns): 2 polls, 0 errors", "10.0.0.1 -> 10.0.0.2", "mixed window 500ms", "every server answers 10.0.0.2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

func TestLiveView(t *testing.T) {
	targets := []Target{{Name: "a:53", Kind: KindDNS}, {Name: "http://x/", Kind: KindHTTP}}
	s := NewSummary(Options{}, targets...)
	var b bytes.Buffer
	l := NewLive(&b, targets)
	o := dnsObs("a:53", 0, "10.0.0.1")
	s.Add(o)
	l.Draw(s, map[string]Observation{"a:53": o}, at(3))
	l.Draw(s, map[string]Observation{"a:53": o}, at(4))
	out := b.String()
	if !strings.Contains(out, "changed 3s ago") || !strings.Contains(out, "changed 4s ago") || !strings.Contains(out, "\x1b[2A") || !strings.Contains(out, "waiting") {
		t.Errorf("live view: %q", out)
	}
}
