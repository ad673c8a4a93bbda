package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("data-dir: /from/file\ndns-listen: 127.0.0.2:53\nnameservers: [a.example., b.example.]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FAILOVERDNS_DNS_LISTEN": "127.0.0.3:5353", "FAILOVERDNS_DNS_SOCKETS": "4"}
	c, err := Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DataDir = "/from/file"                             // file over default
	want.DNSListen = "127.0.0.3:5353"                       // env over file
	want.DNSSockets = 4                                     // env over default
	want.Nameservers = []string{"a.example.", "b.example."} // file list
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load = %+v\nwant %+v", c, want)
	}
}

func TestEnvList(t *testing.T) {
	c, err := Load("", func(k string) string {
		if k == "FAILOVERDNS_NAMESERVERS" {
			return "ns1.example., ns2.example."
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Nameservers, []string{"ns1.example.", "ns2.example."}) {
		t.Fatalf("nameservers = %q", c.Nameservers)
	}
}

func TestErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "dns-listn: 1.2.3.4:53\n", "dns-listn"},
		{"bad listen", "dns-listen: nonsense\n", "dns-listen"},
		{"bad port", "api-listen: 127.0.0.1:99999\n", "api-listen"},
		{"host name", "api-listen: example.com:80\n", "api-listen"},
		{"bad level", "log-level: loud\n", "log-level"},
		{"bad format", "log-format: xml\n", "log-format"},
		{"no nameservers", "nameservers: []\n", "nameservers"},
		{"sockets", "dns-sockets: -1\n", "dns-sockets"},
		{"type", "dns-sockets: many\n", "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestEnvErrorNamesVariable(t *testing.T) {
	_, err := Load("", func(k string) string {
		if k == "FAILOVERDNS_DNS_SOCKETS" {
			return "lots"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "FAILOVERDNS_DNS_SOCKETS") {
		t.Fatalf("error = %v, want one naming FAILOVERDNS_DNS_SOCKETS", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("error = %v, want one naming the file", err)
	}
}

func TestEmptyFileIsDefault(t *testing.T) {
	c, err := Parse(nil)
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Fatalf("Parse(empty) = %+v, %v", c, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("data-dir: x\ndns-listen: 127.0.0.1:0\n"))
	f.Add([]byte("nameservers: [a., b.]\nlog-level: debug\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err == nil {
			_ = c.Validate()
		}
	})
}
