package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client calls the running server's native API.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: 5 * time.Minute}}
}

// apiError is an error the API answered with.
type apiError struct {
	Status   int
	Code     string
	Message  string
	Messages []string
}

func (e *apiError) Error() string {
	if len(e.Messages) > 1 {
		return fmt.Sprintf("%s:\n  - %s", e.Code, strings.Join(e.Messages, "\n  - "))
	}
	return e.Code + ": " + e.Message
}

// do sends a request; a JSON body is encoded from body unless it is an io.Reader. A 2xx answer
// is decoded into out (a *[]byte receives it raw); any other is returned as an *apiError.
func (c *client) do(method, path string, body any, out any) error {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd, ctype = b, "text/plain"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return withHint(fmt.Errorf("API URL %q: %w", c.base, err), "--api takes a URL such as http://127.0.0.1:8053")
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return withHint(fmt.Errorf("cannot reach the failoverdns API at %s: %w", c.base, err),
			"is 'failoverdns serve' running? Point --api (or FAILOVERDNS_API) at its --api-listen address")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the API's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error struct {
				Code, Message string
				Messages      []string
			}
		}
		if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
			return fmt.Errorf("the API answered %s: %s", resp.Status, strings.TrimSpace(string(data)))
		}
		return &apiError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, Messages: eb.Error.Messages}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = data
		return nil
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("the API's answer is not what this CLI expects (is it a failoverdns server of the same version?): %w", err)
		}
		return nil
	}
}

func zonePath(ref string) string { return "/v1/zones/" + url.PathEscape(ref) }

// printJSON writes v indented, as the aws CLI prints its output.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}
