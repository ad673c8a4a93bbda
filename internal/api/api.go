// Package api serves failoverdns's HTTP APIs over the service layer: the native JSON API under
// /v1/ (and, in a later step, the Route 53 REST-XML facade), with errors a user can act on.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// Version is reported by GET /v1/version; main sets it from the build.
var Version = "dev"

// Limits on request bodies.
const (
	maxJSONBody = 8 << 20   // a change batch of 1000 records at 4000 characters fits easily
	maxZoneFile = 512 << 20 // a master file of millions of records
)

// Server is the HTTP handler of the API.
type Server struct {
	svc *service.Service
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the API handler over svc; log receives the causes of internal errors.
func New(svc *service.Service, log *slog.Logger) *Server {
	s := &Server{svc: svc, log: log, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	m.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"Version": Version})
	})
	m.HandleFunc("GET /v1/zones", s.listZones)
	m.HandleFunc("POST /v1/zones", s.createZone)
	m.HandleFunc("GET /v1/zones/{zone}", s.getZone)
	m.HandleFunc("PATCH /v1/zones/{zone}", s.updateZone)
	m.HandleFunc("DELETE /v1/zones/{zone}", s.deleteZone)
	m.HandleFunc("GET /v1/zones/{zone}/rrsets", s.listRecordSets)
	m.HandleFunc("POST /v1/zones/{zone}/rrsets", s.changeRecordSets)
	m.HandleFunc("GET /v1/zones/{zone}/file", s.exportZone)
	m.HandleFunc("PUT /v1/zones/{zone}/file", s.importZone)
	m.HandleFunc("GET /v1/changes/{id}", s.getChange)
	s.healthRoutes()
	m.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &service.Error{Code: "NotFound", Message: fmt.Sprintf("no API operation %s %s; see docs/api.md", r.Method, r.URL.Path)})
	})
}

// CreateZoneRequest is the body of POST /v1/zones.
type CreateZoneRequest struct {
	Name            string `json:"Name"`
	CallerReference string `json:"CallerReference,omitempty"`
	Comment         string `json:"Comment,omitempty"`
}

// ZoneResponse is a zone as the API returns it (the shape of `aws route53 get-hosted-zone`).
type ZoneResponse struct {
	HostedZone    service.HostedZone  `json:"HostedZone"`
	ChangeInfo    *service.ChangeInfo `json:"ChangeInfo,omitempty"`
	DelegationSet *DelegationSet      `json:"DelegationSet,omitempty"`
}

// DelegationSet lists the name servers of a zone.
type DelegationSet struct {
	NameServers []string `json:"NameServers"`
}

// ChangeResponse wraps a change's status.
type ChangeResponse struct {
	ChangeInfo service.ChangeInfo `json:"ChangeInfo"`
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	zones, err := s.svc.ListZones(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if zones == nil {
		zones = []service.HostedZone{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"HostedZones": zones})
}

func (s *Server) createZone(w http.ResponseWriter, r *http.Request) {
	var req CreateZoneRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Name == "" {
		s.fail(w, r, &service.Error{Code: service.CodeInvalidInput, Message: "the request has no Name: give the zone's domain name, e.g. {\"Name\": \"example.com\"}"})
		return
	}
	hz, ci, err := s.svc.CreateZone(r.Context(), req.Name, req.CallerReference, req.Comment)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.delegation(r, hz.Id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/zones/"+strings.TrimPrefix(hz.Id, service.ZonePrefix))
	writeJSON(w, http.StatusCreated, ZoneResponse{HostedZone: hz, ChangeInfo: &ci, DelegationSet: ds})
}

func (s *Server) getZone(w http.ResponseWriter, r *http.Request) {
	hz, err := s.svc.GetZone(r.Context(), r.PathValue("zone"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.delegation(r, hz.Id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ZoneResponse{HostedZone: hz, DelegationSet: ds})
}

// delegation returns the zone's apex NS names.
func (s *Server) delegation(r *http.Request, id string) (*DelegationSet, error) {
	ns, err := s.svc.NameServers(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return &DelegationSet{NameServers: ns}, nil
}

func (s *Server) updateZone(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Comment string `json:"Comment"`
	}
	if !s.decode(w, r, &req) {
		return
	}
	hz, err := s.svc.UpdateZoneComment(r.Context(), r.PathValue("zone"), req.Comment)
	s.reply(w, r, http.StatusOK, ZoneResponse{HostedZone: hz}, err)
}

func (s *Server) deleteZone(w http.ResponseWriter, r *http.Request) {
	ci, err := s.svc.DeleteZone(r.Context(), r.PathValue("zone"))
	s.reply(w, r, http.StatusOK, ChangeResponse{ChangeInfo: ci}, err)
}

func (s *Server) listRecordSets(w http.ResponseWriter, r *http.Request) {
	z, err := s.svc.Zone(r.Context(), r.PathValue("zone"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sets := z.RecordSets
	if sets == nil {
		sets = []zone.RecordSet{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ResourceRecordSets": sets})
}

func (s *Server) changeRecordSets(w http.ResponseWriter, r *http.Request) {
	var batch zone.ChangeBatch
	if !s.decode(w, r, &batch) {
		return
	}
	ci, err := s.svc.ChangeRecordSets(r.Context(), r.PathValue("zone"), batch)
	s.reply(w, r, http.StatusOK, ChangeResponse{ChangeInfo: ci}, err)
}

func (s *Server) exportZone(w http.ResponseWriter, r *http.Request) {
	z, err := s.svc.Zone(r.Context(), r.PathValue("zone"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b strings.Builder
	if err := zone.WriteMasterFile(&b, &z); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/dns; charset=utf-8")
	io.WriteString(w, b.String())
}

func (s *Server) importZone(w http.ResponseWriter, r *http.Request) {
	hz, err := s.svc.GetZone(r.Context(), r.PathValue("zone"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxZoneFile)
	ci, err := s.svc.ImportMasterFile(r.Context(), hz.Id, body, "import "+hz.Name)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = &service.Error{Code: service.CodeInvalidInput, Message: fmt.Sprintf("the zone file is larger than %d bytes", maxZoneFile)}
	}
	s.reply(w, r, http.StatusOK, ChangeResponse{ChangeInfo: ci}, err)
}

func (s *Server) getChange(w http.ResponseWriter, r *http.Request) {
	ci, err := s.svc.GetChange(r.Context(), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, ChangeResponse{ChangeInfo: ci}, err)
}

// decode reads a JSON body strictly (unknown fields are errors) into v, or answers 400.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		s.fail(w, r, &service.Error{Code: service.CodeInvalidInput, Message: "invalid JSON body: " + jsonProblem(err)})
		return false
	}
	return true
}

// jsonProblem describes a JSON decoding error in terms of the document.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s must be a %s, not a JSON %s", typ.Field, typ.Type, typ.Value)
	case errors.As(err, &tooBig):
		return fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	}
	return err.Error()
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error struct {
		Code     string   `json:"Code"`
		Message  string   `json:"Message"`
		Messages []string `json:"Messages,omitempty"`
	} `json:"Error"`
}

// Status returns the HTTP status of a service error code, as Route 53 uses them.
func Status(code string) int {
	switch code {
	case service.CodeNoSuchHostedZone, service.CodeNoSuchChange, service.CodeNoSuchHealthCheck, "NotFound":
		return http.StatusNotFound
	case service.CodeHostedZoneAlreadyExists, service.CodeConflictingDomainExists,
		service.CodeHealthCheckAlreadyExists, service.CodeHealthCheckVersionMismatch:
		return http.StatusConflict
	case service.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// reply answers with v, or with err when it is not nil.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// fail answers with the error: a client's mistake with its code and message, anything else as an
// internal failure whose cause goes to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *service.Error
	if !errors.As(err, &se) {
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		se = &service.Error{Code: service.CodeInternal, Message: "internal error; the server log has the cause"}
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message, body.Error.Messages = se.Code, se.Message, se.Messages
	writeJSON(w, Status(se.Code), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
