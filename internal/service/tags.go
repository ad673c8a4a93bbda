package service

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/store"
)

// Resource types that carry tags, as Route 53 names them.
const (
	TagResourceHostedZone  = "hostedzone"
	TagResourceHealthCheck = "healthcheck"
)

// Tag limits (Route 53's).
const (
	MaxTagsPerResource = 50
	MaxTagChanges      = 10
	MaxTagKey          = 128
	MaxTagValue        = 256
)

// ExtensionTagPrefix starts the tag keys through which a health check reaches failoverdns's
// extensions of Route 53's HealthCheckConfig: adding such a tag changes the check, removing it
// restores the default.
const ExtensionTagPrefix = "failoverdns:"

// Extension tag keys of health checks.
const (
	TagRequestInterval   = ExtensionTagPrefix + "RequestInterval"   // seconds, fractional, 0.1 to 3600
	TagRecoveryThreshold = ExtensionTagPrefix + "RecoveryThreshold" // 1 to 1000
	TagTimeout           = ExtensionTagPrefix + "Timeout"           // seconds, fractional
	TagForce             = ExtensionTagPrefix + "Force"             // healthy, unhealthy or clear
	TagForceReason       = ExtensionTagPrefix + "ForceReason"       // free text for a forced state
)

var extensionTags = []string{TagRequestInterval, TagRecoveryThreshold, TagTimeout, TagForce, TagForceReason}

// Tag is a key and value attached to a hosted zone or health check.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagKey(kind, id string) string { return "tags/" + kind + "/" + id }

// ListTags returns the tags of a hosted zone or health check, sorted by key, and the resource's
// bare id.
func (s *Service) ListTags(ctx context.Context, kind, id string) (string, []Tag, error) {
	id, err := s.tagResource(ctx, kind, id)
	if err != nil {
		return "", nil, err
	}
	var tags []Tag
	err = s.st.View(ctx, func(r store.Reader) error {
		var err error
		tags, err = readTags(r, kind, id)
		return err
	})
	return id, tags, wrapStore("list tags", err)
}

// ChangeTags adds (or replaces) and removes tags of a hosted zone or health check. On a health
// check, the failoverdns: extension tags are applied to the check first, through
// UpdateHealthCheck and ForceHealthCheck; a value the check refuses leaves everything unchanged.
func (s *Service) ChangeTags(ctx context.Context, kind, id string, add []Tag, remove []string) error {
	if len(add) == 0 && len(remove) == 0 {
		return errorf(CodeInvalidInput, "the request adds no tags and removes none: give AddTags or RemoveTagKeys")
	}
	if len(add) > MaxTagChanges || len(remove) > MaxTagChanges {
		return errorf(CodeInvalidInput, "at most %d tags can be added and %d removed in one request", MaxTagChanges, MaxTagChanges)
	}
	for _, t := range add {
		if t.Key == "" || len(t.Key) > MaxTagKey {
			return errorf(CodeInvalidInput, "the tag key %q must be 1 to %d characters long", t.Key, MaxTagKey)
		}
		if len(t.Value) > MaxTagValue {
			return errorf(CodeInvalidInput, "the value of the tag %q is %d characters long; at most %d are allowed", t.Key, len(t.Value), MaxTagValue)
		}
	}
	id, err := s.tagResource(ctx, kind, id)
	if err != nil {
		return err
	}
	var old []Tag
	if err := s.st.View(ctx, func(r store.Reader) (err error) { old, err = readTags(r, kind, id); return err }); err != nil {
		return wrapStore("read tags", err)
	}
	next := map[string]string{}
	for _, t := range old {
		next[t.Key] = t.Value
	}
	for _, k := range remove {
		delete(next, k)
	}
	for _, t := range add {
		next[t.Key] = t.Value
	}
	if v, ok := next[TagForce]; ok && v == "clear" {
		delete(next, TagForce)
	}
	if len(next) > MaxTagsPerResource {
		return errorf(CodeInvalidInput, "a resource can have at most %d tags; this request would leave %d", MaxTagsPerResource, len(next))
	}
	if kind == TagResourceHealthCheck {
		for k := range next {
			if strings.HasPrefix(k, ExtensionTagPrefix) && !slices.Contains(extensionTags, k) {
				return errorf(CodeInvalidInput, "unknown failoverdns tag %q; the health check extension tags are %s", k, strings.Join(extensionTags, ", "))
			}
		}
		if err := s.applyExtensionTags(ctx, id, old, next); err != nil {
			return err
		}
	} else {
		for k := range next {
			if strings.HasPrefix(k, ExtensionTagPrefix) {
				return errorf(CodeInvalidInput, "the tag %q: failoverdns tags apply to health checks only", k)
			}
		}
	}
	tags := make([]Tag, 0, len(next))
	for k, v := range next {
		tags = append(tags, Tag{Key: k, Value: v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.st.Update(ctx, func(tx store.Tx) error {
		if len(tags) == 0 {
			return tx.Delete(tagKey(kind, id))
		}
		return putJSON(tx, tagKey(kind, id), tags)
	})
	return wrapStore("change tags", err)
}

// DeleteTags forgets the tags of a deleted resource.
func (s *Service) DeleteTags(ctx context.Context, kind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.st.Update(ctx, func(tx store.Tx) error { return tx.Delete(tagKey(kind, trimPrefix(id, ZonePrefix))) })
	return wrapStore("delete tags", err)
}

// applyExtensionTags changes the health check id as the failoverdns: tags in next (compared with
// those in old) say.
func (s *Service) applyExtensionTags(ctx context.Context, id string, old []Tag, next map[string]string) error {
	prev := map[string]string{}
	for _, t := range old {
		prev[t.Key] = t.Value
	}
	changed := func(k string) bool {
		a, aok := prev[k]
		b, bok := next[k]
		return a != b || aok != bok
	}
	num := func(k string, integer bool) (float64, error) {
		v, ok := next[k]
		if !ok {
			return 0, nil // the default
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || (integer && f != math.Trunc(f)) {
			what := "a positive number of seconds, such as 0.5"
			if integer {
				what = "a positive whole number"
			}
			return 0, errorf(CodeInvalidInput, "the tag %s=%q: the value must be %s", k, v, what)
		}
		return f, nil
	}
	interval, err := num(TagRequestInterval, false)
	if err != nil {
		return err
	}
	rise, err := num(TagRecoveryThreshold, true)
	if err != nil {
		return err
	}
	timeout, err := num(TagTimeout, false)
	if err != nil {
		return err
	}
	var force *health.Force
	switch v := next[TagForce]; v {
	case "":
		if _, ok := next[TagForce]; ok {
			return errorf(CodeInvalidInput, "the tag %s must be healthy, unhealthy or clear", TagForce)
		}
	case "healthy", "unhealthy":
		force = &health.Force{Healthy: v == "healthy", Reason: next[TagForceReason]}
		if force.Reason == "" {
			force.Reason = "forced with the tag " + TagForce
		}
	default:
		return errorf(CodeInvalidInput, "the tag %s=%q: the value must be healthy, unhealthy or clear", TagForce, v)
	}
	if changed(TagRequestInterval) || changed(TagRecoveryThreshold) || changed(TagTimeout) {
		_, err := s.UpdateHealthCheck(ctx, id, 0, func(c *health.Config) error {
			if changed(TagRequestInterval) {
				c.RequestInterval = interval
			}
			if changed(TagRecoveryThreshold) {
				c.RecoveryThreshold = int(rise)
			}
			if changed(TagTimeout) {
				c.Timeout = timeout
			}
			return nil
		})
		if err != nil {
			if se, ok := err.(*Error); ok {
				return &Error{Code: se.Code, Message: "the failoverdns tags make an invalid health check: " + se.Message, Messages: se.Messages}
			}
			return err
		}
	}
	if changed(TagForce) || (force != nil && changed(TagForceReason)) {
		if _, err := s.ForceHealthCheck(ctx, id, force); err != nil {
			return err
		}
	}
	return nil
}

// tagResource checks that the tagged resource exists and returns its bare id.
func (s *Service) tagResource(ctx context.Context, kind, id string) (string, error) {
	switch kind {
	case TagResourceHostedZone:
		hz, err := s.GetZone(ctx, id)
		if err != nil {
			return "", err
		}
		return trimPrefix(hz.Id, ZonePrefix), nil
	case TagResourceHealthCheck:
		hc, err := s.GetHealthCheck(ctx, id)
		if err != nil {
			return "", err
		}
		return hc.Id, nil
	}
	return "", errorf(CodeInvalidInput, "%s", fmt.Sprintf("Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[healthcheck, hostedzone]'. It must be a value from the enumeration.", kind))
}

func readTags(r store.Reader, kind, id string) ([]Tag, error) {
	v, ok, err := r.Get(tagKey(kind, id))
	if err != nil || !ok {
		return nil, err
	}
	var tags []Tag
	return tags, decodeJSON(tagKey(kind, id), v, &tags)
}
