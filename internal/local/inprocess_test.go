package local

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// closeRecorder is a request body that records its Close.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// An in-process request reaches the handler as a server's request would
// (its RequestURI, a loopback RemoteAddr, a body even when it has none),
// and the handler's answer comes back as a client's response: the first
// status written, 200 when none was or a body came first, its headers, its body
// and length. The request's body is closed, as a transport must.
func TestInProcessRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name       string
		serve      func(w http.ResponseWriter)
		wantCode   int
		wantStatus string
		wantBody   string
	}{
		{"nothing written", func(http.ResponseWriter) {}, http.StatusOK, "200 OK", ""},
		{"a body only", func(w http.ResponseWriter) { io.WriteString(w, "hello") }, http.StatusOK, "200 OK", "hello"},
		{"a body, then a status", func(w http.ResponseWriter) {
			io.WriteString(w, "hello")
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK, "200 OK", "hello"},
		{"first status wins", func(w http.ResponseWriter) {
			w.Header().Set("X-Amzn-Errortype", "ExecutionDoesNotExist")
			w.WriteHeader(http.StatusBadRequest)
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"__type":"ExecutionDoesNotExist"}`)
		}, http.StatusBadRequest, "400 Bad Request", `{"__type":"ExecutionDoesNotExist"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen *http.Request
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = r
				tt.serve(w)
			})
			for _, withBody := range []bool{false, true} {
				req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/path?q=1", nil)
				if err != nil {
					t.Fatal(err)
				}
				body := &closeRecorder{Reader: strings.NewReader("payload")}
				if withBody {
					req.Body = body
				}
				req.Header.Set("X-Amz-Target", "AWSStepFunctions.DescribeExecution")
				resp, err := inProcess{h: h}.RoundTrip(req)
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				if seen.RequestURI != "/path?q=1" || seen.RemoteAddr != "127.0.0.1:0" || seen.Body == nil ||
					seen.Method != http.MethodPost || seen.Header.Get("X-Amz-Target") != "AWSStepFunctions.DescribeExecution" {
					t.Errorf("body %v: the handler saw %s %q from %q, body %v, target %q; want POST /path?q=1 from 127.0.0.1:0 with a body and the target",
						withBody, seen.Method, seen.RequestURI, seen.RemoteAddr, seen.Body, seen.Header.Get("X-Amz-Target"))
				}
				if withBody && !body.closed {
					t.Errorf("the request body was not closed")
				}
				got, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tt.wantCode || resp.Status != tt.wantStatus || string(got) != tt.wantBody ||
					resp.ContentLength != int64(len(tt.wantBody)) || resp.Request != req || resp.ProtoMajor != 1 {
					t.Errorf("body %v: response %d %q, body %q (length %d), same request %v, HTTP/%d; want %d %q, body %q",
						withBody, resp.StatusCode, resp.Status, got, resp.ContentLength, resp.Request == req, resp.ProtoMajor,
						tt.wantCode, tt.wantStatus, tt.wantBody)
				}
				if tt.wantCode != http.StatusOK && resp.Header.Get("X-Amzn-Errortype") != "ExecutionDoesNotExist" {
					t.Errorf("the answer's headers = %v, want the handler's", resp.Header)
				}
			}
		})
	}
}

// The start function's sfn client reaches the runtime's Step Functions
// API in process with what it would get over HTTP: answers decoded, and
// errors as the SDK's typed errors (the start function tells a repeated
// start by them).
func TestInProcessSFNClient(t *testing.T) {
	rt := newTestRuntime(t)
	client := sfn.New(sfn.Options{
		Region:      localRegion,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		// No listener in the way: an address where nothing listens.
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: inProcess{h: rt.sfnAPI}},
	})
	ctx := context.Background()
	sm, err := client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(rt.StateMachineArn())})
	if err != nil || aws.ToString(sm.Name) != StateMachineName || !strings.Contains(aws.ToString(sm.Definition), CheckFunction) {
		t.Fatalf("DescribeStateMachine = %+v, %v; want %s with its definition", sm, err, StateMachineName)
	}
	missing := strings.Replace(rt.StateMachineArn(), ":stateMachine:", ":execution:", 1) + ":nobody"
	_, err = client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(missing)})
	var notFound *types.ExecutionDoesNotExist
	if !errors.As(err, &notFound) {
		t.Fatalf("DescribeExecution of a missing execution: %v (%T), want *types.ExecutionDoesNotExist", err, err)
	}
}
