package faketwilio

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Message is a message the server accepted.
type Message struct {
	SID                 string
	AccountSID          string
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	Created             time.Time
}

// Server is a fake Twilio API on a loopback httptest.Server.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	accounts  map[string]string // account SID -> auth token
	keys      map[string]key    // API key SID -> key
	messages  []Message
	intercept func(w http.ResponseWriter, r *http.Request) bool
	requests  int
}

type key struct{ account, secret string }

// New starts a server that knows one account. Close it when done.
func New(accountSID, authToken string) *Server {
	s := &Server{accounts: map[string]string{accountSID: authToken}, keys: map[string]key{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{account}/Messages.json", s.create)
	mux.HandleFunc("GET /2010-04-01/Accounts/{account}/Messages.json", s.list)
	mux.HandleFunc("GET /2010-04-01/Accounts/{account}/Messages/{sid}", s.get)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		hook := s.intercept
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

// AddAPIKey lets an API key SID and secret authenticate for account.
func (s *Server) AddAPIKey(account, keySID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keySID] = key{account, secret}
}

// Intercept installs a hook that runs before every request; when it
// returns true it has answered the request itself. nil removes it.
func (s *Server) Intercept(h func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = h
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests returns how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// authorize checks basic auth against the path's account; it answers and
// returns false when the caller may not act for it.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	account := r.PathValue("account")
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		if tok, known := s.accounts[user]; known && tok == pass {
			if user == account {
				return true
			}
			writeError(w, http.StatusForbidden, 20003, "Authenticate")
			return false
		}
		if k, known := s.keys[user]; known && k.secret == pass {
			if k.account == account {
				return true
			}
			writeError(w, http.StatusForbidden, 20003, "Authenticate")
			return false
		}
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
	return false
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Unable to parse request: "+err.Error())
		return
	}
	to, from, svc, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("MessagingServiceSid"), r.PostForm.Get("Body")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164.MatchString(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", to))
		return
	case from == "" && svc == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
		return
	case body == "" && r.PostForm.Get("MediaUrl") == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len(utf16.Encode([]rune(body))) > 1600: // an emoji counts twice, as on Twilio
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	m := Message{SID: newSID("SM"), AccountSID: r.PathValue("account"), To: to, From: from,
		MessagingServiceSID: svc, Body: body, Created: time.Now().UTC()}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, render(m, "queued"))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	sid := r.PathValue("sid")
	if len(sid) > 5 && sid[len(sid)-5:] == ".json" {
		sid = sid[:len(sid)-5]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid && m.AccountSID == r.PathValue("account") {
			writeJSON(w, http.StatusOK, render(m, "delivered"))
			return
		}
	}
	writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	s.mu.Lock()
	out := []map[string]any{}
	for i := len(s.messages) - 1; i >= 0; i-- {
		if s.messages[i].AccountSID == r.PathValue("account") {
			out = append(out, render(s.messages[i], "delivered"))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "page": 0, "page_size": 50, "next_page_uri": nil})
}

func render(m Message, status string) map[string]any {
	var from, svc any
	if m.From != "" {
		from = m.From
	}
	if m.MessagingServiceSID != "" {
		svc = m.MessagingServiceSID
	}
	segments := (utf8.RuneCountInString(m.Body) + 152) / 153
	if utf8.RuneCountInString(m.Body) <= 160 {
		segments = 1
	}
	date := m.Created.Format(time.RFC1123Z)
	return map[string]any{
		"sid":                   m.SID,
		"account_sid":           m.AccountSID,
		"to":                    m.To,
		"from":                  from,
		"messaging_service_sid": svc,
		"body":                  m.Body,
		"status":                status,
		"direction":             "outbound-api",
		"num_segments":          fmt.Sprint(segments),
		"num_media":             "0",
		"price":                 nil,
		"price_unit":            "USD",
		"error_code":            nil,
		"error_message":         nil,
		"api_version":           "2010-04-01",
		"date_created":          date,
		"date_updated":          date,
		"date_sent":             nil,
		"uri":                   "/2010-04-01/Accounts/" + m.AccountSID + "/Messages/" + m.SID + ".json",
		"subresource_uris":      map[string]string{"media": "/2010-04-01/Accounts/" + m.AccountSID + "/Messages/" + m.SID + "/Media.json"},
	}
}

func newSID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// WriteError writes a Twilio error body; tests use it from Intercept hooks.
func WriteError(w http.ResponseWriter, status, code int, message string) {
	writeError(w, status, code, message)
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}
