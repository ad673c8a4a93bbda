package config

import (
	"strings"
	"testing"
	"time"
)

func TestNotifyFromFileAndEnv(t *testing.T) {
	c, err := Parse([]byte(`
notify:
  queue-size: 50
  webhooks:
    - url: https://hooks.example.com/T000/B000
      text: true
      kinds: [health, maintenance]
      names: ["*.example.com"]
      retries: 5
      backoff: 250ms
  exec:
    - command: /usr/local/bin/on-failover
      args: [--quiet]
      timeout: 3s
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w := c.Notify.Webhooks[0]
	if c.Notify.QueueSize != 50 || !w.Text || *w.Retries != 5 || w.Backoff != 250*time.Millisecond || w.Names[0] != "*.example.com" {
		t.Errorf("webhook %+v", w)
	}
	if x := c.Notify.Exec[0]; x.Command != "/usr/local/bin/on-failover" || x.Timeout != 3*time.Second || x.Args[0] != "--quiet" {
		t.Errorf("exec %+v", x)
	}

	c, err = Load("", func(k string) string {
		if k == "FAILOVERDNS_NOTIFY" {
			return `{"webhooks": [{"url": "http://127.0.0.1:9/x", "kinds": ["answer"]}]}`
		}
		return ""
	})
	if err != nil || len(c.Notify.Webhooks) != 1 || c.Notify.Webhooks[0].Kinds[0] != "answer" {
		t.Fatalf("FAILOVERDNS_NOTIFY: %+v, %v", c.Notify, err)
	}
}

func TestNotifyErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"notify:\n  webhooks:\n    - url: ftp://x/\n", "notify.webhooks[0].url"},
		{"notify:\n  webhooks:\n    - url: http://x/\n      kinds: [answers]\n", `"answers" is not an event kind`},
		{"notify:\n  webhooks:\n    - url: http://x/\n      retries: -1\n", "retries"},
		{"notify:\n  exec:\n    - args: [x]\n", "notify.exec[0].command is empty"},
		{"notify:\n  exec:\n    - command: x\n      timeout: soon\n", "soon"},
		{"notify:\n  webhook:\n    - url: http://x/\n", "webhook"},
	} {
		c, err := Parse([]byte(tc.yaml))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %q", tc.yaml, err, tc.want)
		}
	}
	_, err := Load("", func(k string) string {
		if k == "FAILOVERDNS_NOTIFY" {
			return `{"webhooks": [{"uri": "x"}]}`
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "FAILOVERDNS_NOTIFY") {
		t.Errorf("bad FAILOVERDNS_NOTIFY: %v", err)
	}
}
