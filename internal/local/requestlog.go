package local

import (
	"log/slog"
	"net/http"
	"time"
)

// logRequests logs each request next answers at Debug, when it has been
// answered: its method, its path without the query, the Step Functions
// operation (X-Amz-Target) if any, the status and how long it took. No
// header, query or body: they may hold a monitor's secrets. At Info it
// costs one Enabled check per request.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !log.Enabled(req.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, req)
			return
		}
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, req)
		attrs := []slog.Attr{slog.String("method", req.Method), slog.String("path", req.URL.Path)}
		if op := req.Header.Get("X-Amz-Target"); op != "" {
			attrs = append(attrs, slog.String("operation", op))
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK // nothing written
		}
		attrs = append(attrs, slog.Int("status", status), slog.Duration("took", time.Since(began).Round(time.Microsecond)))
		log.LogAttrs(req.Context(), slog.LevelDebug, "http: request", attrs...)
	})
}

// statusWriter records the status of the answer written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // not an informational answer
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap returns the ResponseWriter written to, for
// http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
