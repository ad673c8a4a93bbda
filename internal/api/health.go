package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
)

func (s *Server) healthRoutes() {
	m := s.mux
	m.HandleFunc("GET /v1/healthchecks", s.listChecks)
	m.HandleFunc("POST /v1/healthchecks", s.createCheck)
	m.HandleFunc("GET /v1/healthchecks/{id}", s.getCheck)
	m.HandleFunc("PATCH /v1/healthchecks/{id}", s.updateCheck)
	m.HandleFunc("DELETE /v1/healthchecks/{id}", s.deleteCheck)
	m.HandleFunc("GET /v1/healthchecks/{id}/status", s.checkStatus)
	m.HandleFunc("PUT /v1/healthchecks/{id}/force", s.forceCheck)
	m.HandleFunc("DELETE /v1/healthchecks/{id}/force", s.clearForce)
	m.HandleFunc("GET /v1/events", s.events)
}

// CreateCheckRequest is the body of POST /v1/healthchecks.
type CreateCheckRequest struct {
	CallerReference   string        `json:"CallerReference"`
	HealthCheckConfig health.Config `json:"HealthCheckConfig"`
}

// CheckResponse wraps one health check.
type CheckResponse struct {
	HealthCheck service.HealthCheck `json:"HealthCheck"`
}

// UpdateCheckRequest is the body of PATCH /v1/healthchecks/{id}: the fields of HealthCheckConfig
// to change, the version the change is based on, and the fields to reset to their defaults.
type UpdateCheckRequest struct {
	HealthCheckVersion int64           `json:"HealthCheckVersion,omitempty"`
	HealthCheckConfig  json.RawMessage `json:"HealthCheckConfig,omitempty"`
	ResetElements      []string        `json:"ResetElements,omitempty"`
}

// ForceRequest is the body of PUT /v1/healthchecks/{id}/force.
type ForceRequest struct {
	// State is "healthy" or "unhealthy".
	State  string    `json:"State"`
	Reason string    `json:"Reason,omitempty"`
	Until  time.Time `json:"Until,omitzero"`
}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) {
	checks, err := s.svc.ListHealthChecks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if checks == nil {
		checks = []service.HealthCheck{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"HealthChecks": checks})
}

func (s *Server) createCheck(w http.ResponseWriter, r *http.Request) {
	var req CreateCheckRequest
	if !s.decode(w, r, &req) {
		return
	}
	hc, created, err := s.svc.CreateHealthCheck(r.Context(), req.CallerReference, req.HealthCheckConfig)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/healthchecks/"+hc.Id)
	}
	writeJSON(w, status, CheckResponse{HealthCheck: hc})
}

func (s *Server) getCheck(w http.ResponseWriter, r *http.Request) {
	hc, err := s.svc.GetHealthCheck(r.Context(), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, CheckResponse{HealthCheck: hc}, err)
}

// resettable are the fields Route 53's ResetElements may name.
var resettable = map[string]func(*health.Config){
	"FullyQualifiedDomainName": func(c *health.Config) { c.FullyQualifiedDomainName = "" },
	"Regions":                  func(c *health.Config) { c.Regions = nil },
	"ResourcePath":             func(c *health.Config) { c.ResourcePath = "" },
	"ChildHealthChecks":        func(c *health.Config) { c.ChildHealthChecks = nil },
}

func (s *Server) updateCheck(w http.ResponseWriter, r *http.Request) {
	var req UpdateCheckRequest
	if !s.decode(w, r, &req) {
		return
	}
	hc, err := s.svc.UpdateHealthCheck(r.Context(), r.PathValue("id"), req.HealthCheckVersion, func(c *health.Config) error {
		for _, name := range req.ResetElements {
			reset, ok := resettable[name]
			if !ok {
				return &service.Error{Code: service.CodeInvalidInput, Message: "ResetElements: " + strconv.Quote(name) + " cannot be reset; the resettable elements are FullyQualifiedDomainName, Regions, ResourcePath and ChildHealthChecks"}
			}
			reset(c)
		}
		if len(req.HealthCheckConfig) == 0 {
			return nil
		}
		// The given fields replace the stored ones; the others stay.
		dec := json.NewDecoder(bytes.NewReader(req.HealthCheckConfig))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return &service.Error{Code: service.CodeInvalidInput, Message: "invalid HealthCheckConfig: " + jsonProblem(err)}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CheckResponse{HealthCheck: hc})
}

func (s *Server) deleteCheck(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteHealthCheck(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

// CheckStatus is the answer of GET /v1/healthchecks/{id}/status.
type CheckStatus struct {
	Id                   string               `json:"Id"`
	Status               string               `json:"Status"`
	Reason               string               `json:"Reason"`
	Since                time.Time            `json:"Since"`
	Force                *health.Force        `json:"Force,omitempty"`
	ConsecutiveFailures  int                  `json:"ConsecutiveFailures"`
	ConsecutiveSuccesses int                  `json:"ConsecutiveSuccesses"`
	HealthyChildren      *int                 `json:"HealthyChildren,omitempty"`
	Observations         []health.Observation `json:"Observations"`
}

func (s *Server) checkStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.HealthCheckStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := CheckStatus{Id: st.ID, Status: "unhealthy", Reason: st.Reason, Since: st.Since, Force: st.Force,
		ConsecutiveFailures: st.ConsecutiveFailures, ConsecutiveSuccesses: st.ConsecutiveSuccesses, Observations: st.Observations}
	if st.Healthy {
		out.Status = "healthy"
	}
	if st.Config.Type == health.TypeCalculated {
		out.HealthyChildren = &st.HealthyChildren
	}
	if out.Observations == nil {
		out.Observations = []health.Observation{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) forceCheck(w http.ResponseWriter, r *http.Request) {
	var req ForceRequest
	if !s.decode(w, r, &req) {
		return
	}
	var f health.Force
	switch req.State {
	case "healthy":
		f.Healthy = true
	case "unhealthy":
	default:
		s.fail(w, r, &service.Error{Code: service.CodeInvalidInput, Message: "State must be \"healthy\" or \"unhealthy\", not " + strconv.Quote(req.State)})
		return
	}
	f.Reason, f.Until = req.Reason, req.Until
	hc, err := s.svc.ForceHealthCheck(r.Context(), r.PathValue("id"), &f)
	s.reply(w, r, http.StatusOK, CheckResponse{HealthCheck: hc}, err)
}

func (s *Server) clearForce(w http.ResponseWriter, r *http.Request) {
	hc, err := s.svc.ForceHealthCheck(r.Context(), r.PathValue("id"), nil)
	s.reply(w, r, http.StatusOK, CheckResponse{HealthCheck: hc}, err)
}

// events answers GET /v1/events?after=SEQ&limit=N[&follow=1]: the events after SEQ as
// {"Events": [...]}, or with follow, one JSON event per line as they happen, until the client goes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := parseUint(q.Get("after"), 0)
	if err != nil {
		s.fail(w, r, &service.Error{Code: service.CodeInvalidInput, Message: "after must be an event's Seq (a whole number)"})
		return
	}
	limit, err := parseUint(q.Get("limit"), 1000)
	if err != nil || limit == 0 || limit > 10000 {
		s.fail(w, r, &service.Error{Code: service.CodeInvalidInput, Message: "limit must be a whole number from 1 to 10000"})
		return
	}
	if q.Get("follow") == "" {
		evs, err := s.svc.Events(r.Context(), after, int(limit), false)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if evs == nil {
			evs = []service.Event{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"Events": evs})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		evs, err := s.svc.Events(r.Context(), after, int(limit), true)
		if err != nil || r.Context().Err() != nil {
			return
		}
		for _, ev := range evs {
			if enc.Encode(ev) != nil {
				return
			}
			after = ev.Seq
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func parseUint(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseUint(s, 10, 64)
}
