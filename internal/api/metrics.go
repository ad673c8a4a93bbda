package api

import "net/http"

// Metrics serves h, the Prometheus exposition of the server's metrics, at GET /metrics.
func (s *Server) Metrics(h http.Handler) { s.mux.Handle("GET /metrics", h) }
