package api

import (
	"errors"
	"net/http"

	"github.com/failoverdns/failoverdns/internal/service"
)

// MaintenanceRoutes registers the maintenance window operations:
//
//	GET    /v1/maintenance       {"MaintenanceWindows": [...]}
//	POST   /v1/maintenance       a service.MaintenanceRequest -> {"MaintenanceWindow": ...}
//	GET    /v1/maintenance/{id}  {"MaintenanceWindow": ...}
//	DELETE /v1/maintenance/{id}  cancel -> {"MaintenanceWindow": ...}
func (s *Server) MaintenanceRoutes() {
	m := s.mux
	m.HandleFunc("GET /v1/maintenance", s.listMaintenance)
	m.HandleFunc("POST /v1/maintenance", s.createMaintenance)
	m.HandleFunc("GET /v1/maintenance/{id}", s.getMaintenance)
	m.HandleFunc("DELETE /v1/maintenance/{id}", s.cancelMaintenance)
}

// MaintenanceResponse wraps one maintenance window.
type MaintenanceResponse struct {
	MaintenanceWindow service.MaintenanceWindow `json:"MaintenanceWindow"`
}

func (s *Server) listMaintenance(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.ListMaintenance(r.Context())
	if list == nil {
		list = []service.MaintenanceWindow{}
	}
	s.reply(w, r, http.StatusOK, map[string]any{"MaintenanceWindows": list}, err)
}

func (s *Server) createMaintenance(w http.ResponseWriter, r *http.Request) {
	var req service.MaintenanceRequest
	if !s.decode(w, r, &req) {
		return
	}
	mw, err := s.svc.CreateMaintenance(r.Context(), req)
	if err != nil {
		s.maintenanceFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/maintenance/"+mw.Id)
	writeJSON(w, http.StatusCreated, MaintenanceResponse{MaintenanceWindow: mw})
}

func (s *Server) getMaintenance(w http.ResponseWriter, r *http.Request) {
	mw, err := s.svc.GetMaintenance(r.Context(), r.PathValue("id"))
	if err != nil {
		s.maintenanceFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MaintenanceResponse{MaintenanceWindow: mw})
}

func (s *Server) cancelMaintenance(w http.ResponseWriter, r *http.Request) {
	mw, err := s.svc.CancelMaintenance(r.Context(), r.PathValue("id"))
	if err != nil {
		s.maintenanceFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MaintenanceResponse{MaintenanceWindow: mw})
}

// maintenanceFail is fail, with 404 for an unknown window.
func (s *Server) maintenanceFail(w http.ResponseWriter, r *http.Request, err error) {
	var se *service.Error
	if errors.As(err, &se) && se.Code == service.CodeNoSuchMaintenanceWindow {
		var body ErrorBody
		body.Error.Code, body.Error.Message = se.Code, se.Message
		writeJSON(w, http.StatusNotFound, body)
		return
	}
	s.fail(w, r, err)
}
