package dnsserver

import (
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestDig asks the real dig, as a user would, and checks what it prints.
func TestDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig is not installed")
	}
	s, _ := startServer(t, testSnapshot(t), 1)
	host, port, _ := net.SplitHostPort(s.Addr())
	cases := []struct {
		args   []string
		status string
		flags  string
		answer []string // lines of the ANSWER SECTION, whitespace collapsed
	}{
		{[]string{"www.example.com", "A"}, "NOERROR", "qr aa",
			[]string{"www.example.com. 300 IN CNAME web.example.com.", "web.example.com. 300 IN A 192.0.2.80"}},
		{[]string{"www.example.com", "A", "+tcp"}, "NOERROR", "qr aa",
			[]string{"www.example.com. 300 IN CNAME web.example.com.", "web.example.com. 300 IN A 192.0.2.80"}},
		{[]string{"nothere.example.com", "A"}, "NXDOMAIN", "qr aa", nil},
		{[]string{"www.sub.example.com", "A"}, "NOERROR", "qr", nil},
		{[]string{"www.example.net", "A"}, "REFUSED", "qr", nil},
		{[]string{"fo.example.org", "A", "+rec"}, "NOERROR", "qr aa rd", []string{"fo.example.org. 60 IN A 192.0.2.1"}},
		{[]string{"many.big.test", "A", "+noedns", "+ignore"}, "NOERROR", "qr aa tc", nil},
	}
	status := regexp.MustCompile(`status: (\w+)`)
	flags := regexp.MustCompile(`;; flags: ([a-z ]+);`)
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := append([]string{"@" + host, "-p", port, "+norec", "+time=2", "+tries=1"}, c.args...)
			out, err := exec.Command(dig, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			text := string(out)
			if m := status.FindStringSubmatch(text); m == nil || m[1] != c.status {
				t.Errorf("status %v, want %s\n%s", m, c.status, text)
			}
			if m := flags.FindStringSubmatch(text); m == nil || m[1] != c.flags {
				t.Errorf("flags %v, want %q\n%s", m, c.flags, text)
			}
			if got := section(text, "ANSWER"); strings.Join(got, "\n") != strings.Join(c.answer, "\n") {
				t.Errorf("answer section:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.answer, "\n"))
			}
		})
	}
}

// section returns the record lines of one section of dig's output, whitespace collapsed.
func section(out, name string) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, ";; "+name+" SECTION:"):
			in = true
		case in && (l == "" || strings.HasPrefix(l, ";")):
			return lines
		case in:
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	return lines
}
