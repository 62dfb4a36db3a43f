package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSigningChoice runs stepmon status against execute-api hosts and a
// custom domain, through a local proxy that answers for them, with and
// without an API key, AWS credentials and --sigv4: an API key or
// --sigv4=false turns the automatic signing of execute-api hosts off,
// --sigv4 forces it (also with a key), and automatic signing without
// credentials says what to do.
func TestSigningChoice(t *testing.T) {
	bin := buildStepmon(t)
	type seen struct{ host, auth, key string }
	var mu sync.Mutex
	var got []seen
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.URL.Host, r.Header.Get("Authorization"), r.Header.Get("x-api-key")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"instanceId":"abc","runtimeStatus":"Running"}`))
	}))
	defer proxy.Close()

	// An EC2 instance metadata service that has no role: it refuses
	// IMDSv2's token, so the SDK falls back to IMDSv1 (and logs so).
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	}))
	defer imds.Close()
	withIMDS := "AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL + " NO_PROXY=127.0.0.1 no_proxy=127.0.0.1"

	const apiHost = "abc123.execute-api.eu-west-1.amazonaws.com"
	const api = "http://" + apiHost + "/v1/"
	const custom = "http://api.example.test/v1"
	const creds = "AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret"
	const noCredsMsg = "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile with --profile or AWS_PROFILE; or use --api-key or --sigv4=false) to sign for " + apiHost + ": "
	// A profile whose credential_process prints a secret in output the
	// SDK cannot parse, and so quotes in its error.
	dir := t.TempDir()
	proc := filepath.Join(dir, "creds.sh")
	if err := os.WriteFile(proc, []byte("#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"AKIAPROC\",\"SecretAccessKey\":\"PROCSECRET\"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[profile proc]\ncredential_process = "+proc+"\nregion = eu-west-1\n"+
		"[profile alt]\naws_access_key_id = AKIDALT\naws_secret_access_key = altsecret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	procProfile := "AWS_CONFIG_FILE=" + config + " AWS_PROFILE=proc"
	const regionWarning = "stepmon: warning: --region us-east-1 is not the region of " + apiHost + " (eu-west-1): API Gateway refuses a request signed for another region than its API's; leave --region out to sign for eu-west-1\n"
	tests := []struct {
		name     string
		env      string // extra environment, space-separated
		args     []string
		wantCode int
		signed   bool   // the request carries a SigV4 Authorization
		key      string // the request's x-api-key
		// credential is in the request's Authorization: the key id and
		// the region it was signed with.
		credential string
		sent       bool // a request reached the proxy
		wantErr    string
		// notInErr must not be in standard error.
		notInErr string
	}{
		{name: "key from the environment, no credentials", env: "STEPMON_API_KEY=k123", args: []string{"--endpoint", api}, sent: true, key: "k123"},
		{name: "key flag, no credentials", args: []string{"--api-key", "k123", "--endpoint", api}, sent: true, key: "k123"},
		{name: "key with credentials", env: creds + " STEPMON_API_KEY=k123", args: []string{"--endpoint", api}, sent: true, key: "k123"},
		{name: "--sigv4=false, no credentials", args: []string{"--sigv4=false", "--endpoint", api}, sent: true},
		{name: "--sigv4=false with credentials", env: creds, args: []string{"--sigv4=false", "--endpoint", api}, sent: true},
		// The proxy here sees the requests in clear: so would anyone on
		// the way, which the warning says.
		{name: "credentials, no key", env: creds, args: []string{"--endpoint", api}, sent: true, signed: true,
			wantErr: "stepmon: warning: requests to " + apiHost + " are signed but sent over plain http"},
		{name: "--sigv4 with a key", env: creds + " STEPMON_API_KEY=k123", args: []string{"--sigv4", "--endpoint", api}, sent: true, signed: true, key: "k123"},
		{name: "--sigv4 on a custom domain", env: creds, args: []string{"--sigv4", "--region", "eu-west-1", "--endpoint", custom}, sent: true, signed: true},
		{name: "custom domain, not signed", env: creds, args: []string{"--endpoint", custom}, sent: true},
		{name: "look-alike host, not signed", env: creds, args: []string{"--endpoint", "http://" + apiHost + ".evil.test/v1"}, sent: true},
		{name: "host in upper case", env: creds, args: []string{"--endpoint", "http://" + strings.ToUpper(apiHost) + "/v1"}, sent: true, signed: true},
		{name: "no credentials, no key", args: []string{"--endpoint", api}, wantCode: 1, wantErr: noCredsMsg},
		// On a machine with an instance metadata service: one line, where
		// the SDK's chain of messages ends, and none of its log lines.
		{name: "no credentials, an instance metadata service without a role", env: withIMDS, args: []string{"--endpoint", api}, wantCode: 1,
			wantErr:  "stepmon: status abc: " + noCredsMsg + "none in the environment, the AWS config and credentials files, or the EC2 instance metadata service\n",
			notInErr: "IMDSv1"},
		{name: "credential_process prints a secret", env: procProfile, args: []string{"--endpoint", api}, wantCode: 1,
			wantErr:  `the AWS credentials of profile "proc" (AWS_PROFILE) could not be loaded (check the profile in the AWS config and credentials files; or use --api-key or --sigv4=false) to sign for ` + apiHost + ": ",
			notInErr: "PROCSECRET"},
		{name: "credential_process prints a secret, --sigv4", env: procProfile, args: []string{"--sigv4", "--endpoint", custom}, wantCode: 1,
			wantErr:  `the AWS credentials of profile "proc" (AWS_PROFILE) could not be loaded (check the profile in the AWS config and credentials files) for --sigv4: the profile's credential_process failed (its output is not shown: it may hold secrets)`,
			notInErr: "PROCSECRET"},
		{name: "credential_process prints a secret, --profile", env: "AWS_CONFIG_FILE=" + config, args: []string{"--profile", "proc", "--endpoint", api}, wantCode: 1,
			wantErr:  `the AWS credentials of profile "proc" (--profile) could not be loaded (check the profile in the AWS config and credentials files; or use --api-key or --sigv4=false) to sign for ` + apiHost + ": ",
			notInErr: "PROCSECRET"},
		// --profile chooses the profile, over AWS_PROFILE too; one
		// that does not exist is named, as is an AWS_PROFILE's.
		{name: "--profile", env: "AWS_CONFIG_FILE=" + config, args: []string{"--profile", "alt", "--endpoint", api}, sent: true, signed: true,
			credential: "Credential=AKIDALT/", notInErr: "warning: --"},
		{name: "--profile over AWS_PROFILE", env: procProfile, args: []string{"--profile", "alt", "--endpoint", api}, sent: true, signed: true,
			credential: "Credential=AKIDALT/"},
		{name: "--profile=alt on a custom domain with --sigv4", env: "AWS_CONFIG_FILE=" + config, args: []string{"--profile=alt", "--sigv4", "--region", "eu-west-1", "--endpoint", custom},
			sent: true, signed: true, credential: "Credential=AKIDALT/"},
		{name: "--profile that does not exist", env: "AWS_CONFIG_FILE=" + config, args: []string{"--profile", "nope", "--endpoint", api}, wantCode: 2,
			wantErr: `stepmon: status: --profile "nope" names no profile in the AWS config and credentials files (` + config + ` and /dev/null): check its name, or create it (aws configure --profile nope)` + "\n"},
		{name: "AWS_PROFILE that does not exist", env: "AWS_CONFIG_FILE=" + config + " AWS_PROFILE=nope", args: []string{"--endpoint", api}, wantCode: 2,
			wantErr: `stepmon: status: AWS_PROFILE "nope" names no profile in the AWS config and credentials files (`},
		{name: "--profile, not signed", env: "AWS_CONFIG_FILE=" + config, args: []string{"--profile", "alt", "--endpoint", custom}, sent: true,
			wantErr: "stepmon: warning: --profile alt has no effect: requests to api.example.test are not signed (add --sigv4 to sign them)\n"},
		// A --region other than the host's signs for it, with a warning.
		{name: "--region other than the host's", env: creds, args: []string{"--region", "us-east-1", "--endpoint", api}, sent: true, signed: true,
			credential: "/us-east-1/execute-api/", wantErr: regionWarning},
		{name: "--region the host's", env: creds, args: []string{"--region", "eu-west-1", "--endpoint", api}, sent: true, signed: true,
			credential: "/eu-west-1/execute-api/", notInErr: "warning: --"},
		{name: "--region, not signed", env: creds, args: []string{"--region", "us-east-1", "--sigv4=false", "--endpoint", api}, sent: true, notInErr: "warning: --"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			cmd := exec.Command(bin, append([]string{"status", "abc"}, tt.args...)...)
			cmd.Env = append(withoutAWS(os.Environ()), "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=",
				"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
			cmd.SysProcAttr = childProcAttr()
			if tt.env != "" {
				cmd.Env = append(cmd.Env, strings.Fields(tt.env)...)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if tt.wantErr != "" && !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.wantErr)
			}
			if tt.notInErr != "" && strings.Contains(stderr.String(), tt.notInErr) {
				t.Errorf("stderr %q shows %q", stderr.String(), tt.notInErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if !tt.sent {
				if len(got) != 0 {
					t.Errorf("sent %d requests, want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("sent %d requests, want 1; stderr: %s", len(got), stderr.String())
			}
			r := got[0]
			if signed := strings.HasPrefix(r.auth, "AWS4-HMAC-SHA256 "); signed != tt.signed {
				t.Errorf("signed %v (Authorization %q), want %v", signed, r.auth, tt.signed)
			}
			if r.key != tt.key {
				t.Errorf("x-api-key %q, want %q", r.key, tt.key)
			}
			if !strings.Contains(r.auth, tt.credential) {
				t.Errorf("Authorization %q does not contain %q", r.auth, tt.credential)
			}
		})
	}
}

// withoutAWS returns env without the AWS and stepmon variables and
// proxies that would change how the client signs or where it sends.
func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "STEPMON_"),
			strings.EqualFold(k, "HTTP_PROXY"), strings.EqualFold(k, "HTTPS_PROXY"), strings.EqualFold(k, "NO_PROXY"):
			continue
		}
		out = append(out, kv)
	}
	return out
}

// TestExecuteAPIRegion: only API Gateway's own host names are signed
// without --sigv4, in any case; a host that merely starts like one, or has
// the parts in other places, is not.
func TestExecuteAPIRegion(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"abc123.execute-api.us-east-1.amazonaws.com", "us-east-1"},
		{"abc123.execute-api.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{"ABC123.Execute-Api.US-EAST-1.AmazonAWS.com", "us-east-1"},
		{"abc123.execute-api.us-east-1.amazonaws.com.", "us-east-1"},
		// A private API's Route 53 alias, and a VPC endpoint's own name.
		{"abc123-vpce-0123456789abcdef0.execute-api.eu-west-1.amazonaws.com", "eu-west-1"},
		{"vpce-0123456789abcdef0-abcdefgh.execute-api.eu-west-1.vpce.amazonaws.com", "eu-west-1"},
		{"vpce-0123456789abcdef0-abcdefgh.execute-api.cn-north-1.vpce.amazonaws.com.cn", "cn-north-1"},
		// A label is 1 to 63 letters, digits and hyphens, all of them.
		{"xyz-789.execute-api.us-west-2.amazonaws.com", "us-west-2"},
		{strings.Repeat("a", 63) + ".execute-api.us-east-1.amazonaws.com", "us-east-1"},
		{strings.Repeat("a", 64) + ".execute-api.us-east-1.amazonaws.com", ""},
		{"-abc123.execute-api.us-east-1.amazonaws.com", ""},
		{"abc123-.execute-api.us-east-1.amazonaws.com", ""},
		{"abc123.execute-api.us-east-1-.amazonaws.com", ""},
		// Look-alikes and other hosts.
		{"abc123.execute-api.us-east-1.amazonaws.com.evil.test", ""},
		{"abc123.execute-api.us-east-1.amazonaws.com.cn.evil.test", ""},
		{"abc123.execute-api.us-east-1.vpce.amazonaws.com.evil.test", ""},
		{"abc123.execute-api.us-east-1.amazonaws.comevil.test", ""},
		{"abc123.execute-api.us-east-1.evilamazonaws.com", ""},
		{"abc123.execute-api.us-east-1.amazonaws.co", ""},
		{"x.abc123.execute-api.us-east-1.amazonaws.com", ""},
		{"abc123.execute-api.us-east-1.s3.amazonaws.com", ""},
		{"abc123.execute-api.us-east-1.x.vpce.amazonaws.com", ""},
		{"abc123.execute-api.vpce.amazonaws.com", ""},
		{"execute-api.us-east-1.amazonaws.com", ""},
		{".execute-api.us-east-1.amazonaws.com", ""},
		{"abc123.execute-api..amazonaws.com", ""},
		{"abc123.execute-api.us_east-1.amazonaws.com", ""},
		{"abc123.execute-api.-us-east-1.amazonaws.com", ""},
		{"abc123.execute-apix.us-east-1.amazonaws.com", ""},
		{"amazonaws.com", ""},
		{"api.example.test", ""},
		{"127.0.0.1", ""},
		{"", ""},
	} {
		if got := executeAPIRegion(tt.host); got != tt.want {
			t.Errorf("executeAPIRegion(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// TestRequestHeaders: every request asks for JSON, a request with a body
// says it is JSON, an API key goes as x-api-key, and a signed request's
// signature covers its method, path, query, headers and body, signed for
// execute-api in the region given: the server signs the request it got
// again and gets the same Authorization.
func TestRequestHeaders(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": dir + "/none", "AWS_SHARED_CREDENTIALS_FILE": dir + "/none", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	type request struct {
		method, accept, contentType, key string
		body                             string
		authorization, resigned          string
	}
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{method: r.Method, accept: r.Header.Get("Accept"), contentType: r.Header.Get("Content-Type"),
			key: r.Header.Get("x-api-key"), body: string(body), authorization: r.Header.Get("Authorization")}
		if req.authorization != "" {
			req.resigned = resign(r, body, "")
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/raiseEvent/"):
			io.WriteString(w, `{"instanceId":"m1","eventName":"setInterval"}`)
		case strings.HasSuffix(r.URL.Path, "/terminate"):
			io.WriteString(w, `{"instanceId":"m1","runtimeStatus":"Terminated"}`)
		default:
			io.WriteString(w, `{"instanceId":"m1","runtimeStatus":"Running"}`)
		}
	}))
	defer srv.Close()
	const data = `{"pollingIntervalSeconds": 30}`
	tests := []struct {
		name   string
		args   []string
		want   request // authorization and resigned: whether they are set
		signed bool
	}{
		{name: "GET", args: []string{"status", "m1"}, want: request{method: "GET", accept: "application/json"}},
		{name: "POST with a body", args: []string{"raise", "m1", "setInterval", "--data", data},
			want: request{method: "POST", accept: "application/json", contentType: "application/json", body: data}},
		{name: "POST without a body", args: []string{"terminate", "m1", "--reason", "done"}, want: request{method: "POST", accept: "application/json"}},
		{name: "API key", args: []string{"status", "m1", "--api-key", "k1"}, want: request{method: "GET", accept: "application/json", key: "k1"}},
		{name: "signed GET", args: []string{"status", "m1", "--sigv4", "--region", "eu-west-1"}, want: request{method: "GET", accept: "application/json"}, signed: true},
		{name: "signed POST with a body", args: []string{"raise", "m1", "setInterval", "--data", data, "--sigv4", "--region", "eu-west-1"},
			want: request{method: "POST", accept: "application/json", contentType: "application/json", body: data}, signed: true},
		{name: "signed POST with a query", args: []string{"terminate", "m1", "--reason", "no longer needed", "--sigv4", "--region", "eu-west-1"},
			want: request{method: "POST", accept: "application/json"}, signed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			r := runCLI(t.Context(), srv.URL, tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr: %s", r.code, r.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			req := got[0]
			if tt.signed {
				if !strings.HasPrefix(req.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(req.authorization, "/eu-west-1/execute-api/aws4_request") {
					t.Errorf("Authorization %q, want a signature for execute-api in eu-west-1", req.authorization)
				}
				if req.resigned != req.authorization {
					t.Errorf("Authorization %q, but the request signs as %q", req.authorization, req.resigned)
				}
			} else if req.authorization != "" {
				t.Errorf("Authorization %q, want none", req.authorization)
			}
			req.authorization, req.resigned = "", ""
			if req != tt.want {
				t.Errorf("request %+v, want %+v", req, tt.want)
			}
		})
	}
}

// TestRequestHeadersSessionToken: temporary credentials (SSO, an assumed
// role) sign with their session token, which goes as X-Amz-Security-Token
// and is among the signed headers.
func TestRequestHeadersSessionToken(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "SESSIONTOKEN1",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": dir + "/none", "AWS_SHARED_CREDENTIALS_FILE": dir + "/none", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	type seen struct{ token, authorization, resigned string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Get("X-Amz-Security-Token"), r.Header.Get("Authorization"), resign(r, body, "SESSIONTOKEN1")}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"instanceId":"m1","runtimeStatus":"Running"}`)
	}))
	defer srv.Close()
	if r := runCLI(t.Context(), srv.URL, "status", "m1", "--sigv4", "--region", "eu-west-1"); r.code != 0 {
		t.Fatalf("exit %d; stderr: %s", r.code, r.stderr)
	}
	req := <-got
	if req.token != "SESSIONTOKEN1" {
		t.Errorf("X-Amz-Security-Token %q, want the session token", req.token)
	}
	if !strings.Contains(req.authorization, "x-amz-security-token") {
		t.Errorf("Authorization %q does not sign X-Amz-Security-Token", req.authorization)
	}
	if req.resigned != req.authorization {
		t.Errorf("Authorization %q, but the request signs as %q", req.authorization, req.resigned)
	}
}

// resign signs r again, with body, the headers its Authorization names,
// the time of its X-Amz-Date and the test's credentials (with token as
// their session token, when set), for execute-api in eu-west-1, and
// returns the Authorization that gives.
func resign(r *http.Request, body []byte, token string) string {
	auth := r.Header.Get("Authorization")
	_, signed, ok := strings.Cut(auth, "SignedHeaders=")
	if !ok {
		return "no SignedHeaders in " + auth
	}
	signed, _, _ = strings.Cut(signed, ",")
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err.Error()
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "content-length" {
			req.Header.Set(h, r.Header.Get(h))
		}
	}
	req.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "eu-west-1", at); err != nil {
		return err.Error()
	}
	return req.Header.Get("Authorization")
}

// TestInterruptWhileLoadingCredentials: Ctrl-C while a profile's
// credential_process runs ends the command as Ctrl-C during a request
// does: exit status 130 and nothing on standard error.
func TestInterruptWhileLoadingCredentials(t *testing.T) {
	dir := t.TempDir()
	proc := filepath.Join(dir, "slow.sh")
	if err := os.WriteFile(proc, []byte("#!/bin/sh\nsleep 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[profile slow]\ncredential_process = "+proc+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"), "AWS_PROFILE": "slow",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request reached the server: %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	r := runCLI(ctx, srv.URL, "status", "m1", "--sigv4", "--region", "eu-west-1")
	if r.code != 130 || r.stderr != "" {
		t.Errorf("exit %d, stderr %q; want exit 130 and nothing", r.code, r.stderr)
	}
}
