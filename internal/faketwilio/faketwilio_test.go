package faketwilio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func post(t testing.TB, s *Server, user, pass string, form url.Values) (int, map[string]any) {
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/2010-04-01/Accounts/AC1/Messages.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestCreateMessage(t *testing.T) {
	s := New("AC1", "tok")
	defer s.Close()
	ok := url.Values{"To": {"+14255550100"}, "From": {"+15005550006"}, "Body": {"hi"}}
	tests := []struct {
		name       string
		user, pass string
		form       url.Values
		status     int
		code       float64
	}{
		{"created", "AC1", "tok", ok, 201, 0},
		{"bad token", "AC1", "nope", ok, 401, 20003},
		{"bad To", "AC1", "tok", url.Values{"To": {"123"}, "From": {"+15005550006"}, "Body": {"hi"}}, 400, 21211},
		{"no From", "AC1", "tok", url.Values{"To": {"+14255550100"}, "Body": {"hi"}}, 400, 21603},
		{"no Body", "AC1", "tok", url.Values{"To": {"+14255550100"}, "From": {"+15005550006"}}, 400, 21602},
		{"long Body", "AC1", "tok", url.Values{"To": {"+14255550100"}, "From": {"+15005550006"}, "Body": {strings.Repeat("x", 1601)}}, 400, 21617},
	}
	for _, tt := range tests {
		status, body := post(t, s, tt.user, tt.pass, tt.form)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d (%v)", tt.name, status, tt.status, body)
		}
		if tt.code != 0 && body["code"] != tt.code {
			t.Errorf("%s: code %v, want %v", tt.name, body["code"], tt.code)
		}
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
}

func ExampleServer() {
	s := New("AC1", "tok")
	defer s.Close()
	status, m := post(&testing.T{}, s, "AC1", "tok", url.Values{"To": {"+14255550100"}, "From": {"+15005550006"}, "Body": {"disk full"}})
	fmt.Println(status, m["status"], s.Messages()[0].Body)
	// Output: 201 queued disk full
}
